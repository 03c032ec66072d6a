/** Loads a mapping by name (from mappings/) or path, and refuses a wrong one with the path of each mistake. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { jsonPointer } from '../errors.js';
import { mappableTargets } from '../standard/publish.js';
import { mappingSchema, transformNames, type Mapping } from './mapping-schema.js';

export const mappingsDir = fileURLToPath(new URL('../../mappings/', import.meta.url));

export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    message: string,
    readonly problems: { path: string; message: string }[] = [],
  ) {
    super(problems.length ? `${message}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` : message);
  }
}

export interface ParsedTarget {
  /** The target with groups removed, e.g. "phones[].number". */
  canonical: string;
  segments: { key: string; group?: string }[];
}

/** "phones[mobile].number" → segments and the canonical path it fills. */
export function parseTarget(target: string): ParsedTarget | undefined {
  const segments: { key: string; group?: string }[] = [];
  for (const part of target.split('.')) {
    const match = /^([A-Za-z][A-Za-z0-9_-]*)(?:\[([A-Za-z0-9_-]*)\])?$/.exec(part);
    if (!match) return undefined;
    segments.push(match[2] === undefined ? { key: match[1]! } : { key: match[1]!, group: match[2] });
  }
  const canonical = segments.map((s) => (s.group === undefined ? s.key : `${s.key}[]`)).join('.');
  return { canonical, segments };
}

function checkTargets(mapping: Mapping): { path: string; message: string }[] {
  const targets = mappableTargets();
  const problems: { path: string; message: string }[] = [];
  mapping.rules.forEach((rule, i) => {
    const parsed = parseTarget(rule.target);
    const isExt = parsed && parsed.segments[0]?.key === 'ext' && parsed.segments.length === 3 && parsed.canonical === rule.target;
    if (!parsed || (!isExt && !targets.has(parsed.canonical))) {
      problems.push({ path: `/rules/${i}/target`, message: `unknown canonical field "${rule.target}" (see standards/customer/v1/README.md; partner fields go under "ext.<namespace>.<field>")` });
    }
    if (parsed?.canonical === 'source.recordId') {
      problems.push({ path: `/rules/${i}/target`, message: 'the record id comes from source.recordId, not from a rule' });
    }
  });
  return problems;
}

/** Checks a parsed JSON mapping; throws a MappingError naming the path of every mistake. */
export function parseMapping(json: unknown, origin = 'mapping'): Mapping {
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const isTransform = issue.path.at(-2) === 'transforms' || (issue.path.at(-1) === 'op' && issue.path.at(-3) === 'transforms');
      const path = jsonPointer(isTransform && issue.path.at(-1) === 'op' ? issue.path.slice(0, -1) : issue.path);
      const message =
        isTransform && (issue.code === 'invalid_union' || issue.code === 'invalid_value')
          ? `unknown transform; known transforms: ${transformNames.join(', ')}`
          : issue.message;
      return { path, message };
    });
    throw new MappingError(`${origin} is not a valid mapping`, problems);
  }
  const problems = checkTargets(parsed.data);
  if (problems.length) throw new MappingError(`${origin} is not a valid mapping`, problems);
  return parsed.data;
}

/** A shipped mapping's name ("salesforce-contacts") or a path to a mapping file. */
export function loadMapping(nameOrPath: string): Mapping {
  // A path that exists is a file; anything else must be the plain name of a shipped mapping.
  const isShippedName = /^[a-z0-9][a-z0-9-]*(\.json)?$/.test(nameOrPath);
  const file = existsSync(nameOrPath) ? nameOrPath : `${mappingsDir}${nameOrPath.replace(/\.json$/, '')}.json`;
  if (!existsSync(nameOrPath) && (!isShippedName || !existsSync(file))) {
    throw new MappingError(`no mapping "${nameOrPath}": give a file path or one of the shipped mappings (cx mappings list)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MappingError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseMapping(json, file);
}

export type { Mapping };
export const mappingJsonSchema = () => z.toJSONSchema(mappingSchema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
