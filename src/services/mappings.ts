/**
 * Mappings a partner may use: the shipped adapters and its own, saved ones (validated when saved,
 * named apart from the shipped ones). Datasets and uploads name either.
 */
import { readdirSync } from 'node:fs';
import { recordEvent } from '../audit/record-event.js';
import { AppError } from '../errors.js';
import { loadMapping, MappingError, mappingsDir, parseMapping } from '../mapping/load.js';
import type { Mapping } from '../mapping/mapping-schema.js';
import type { Queryable } from '../store/database.js';
import { selectPartnerMapping, selectPartnerMappings, upsertPartnerMapping } from '../store/partner-mappings.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

let shipped: Set<string> | undefined;
/** The shipped adapters' names: files that come with the release, read once rather than on every upload. */
const shippedNames = (): Set<string> => (shipped ??= new Set(readdirSync(mappingsDir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''))));

export interface MappingSummary {
  name: string;
  origin: 'shipped' | 'partner';
  format: string;
  description: string | null;
  updatedAt: Date | null;
}

/** A mapping by name: one of the partner's own, or a shipped one; undefined when neither. */
export async function findMapping(db: Queryable, partnerId: string, name: string): Promise<Mapping | undefined> {
  if (shippedNames().has(name)) return loadMapping(name);
  const own = await selectPartnerMapping(db, partnerId, name);
  return own ? parseMapping(own.mapping) : undefined;
}

/** Validates and saves a partner's mapping under its own name (audited); a shipped name is refused. */
export async function saveMapping({ ctx, input }: { ctx: ServiceContext; input: unknown }): Promise<{ mapping: Mapping; created: boolean }> {
  const partnerId = requirePartner(ctx);
  let mapping: Mapping;
  try {
    mapping = parseMapping(input);
  } catch (error) {
    if (error instanceof MappingError) throw new AppError('validation_failed', 'The mapping is not valid.', { errors: error.problems.length ? error.problems : [{ path: '', message: error.message }] });
    throw error;
  }
  if (shippedNames().has(mapping.name)) throw new AppError('conflict', `"${mapping.name}" is the name of a shipped mapping: give yours another name.`);
  return ctx.db.transaction(async (tx) => {
    const { created } = await upsertPartnerMapping(tx, partnerId, mapping.name, input);
    await recordEvent(tx, ctx, { action: created ? 'mapping.create' : 'mapping.replace', targetType: 'mapping', targetId: mapping.name, details: { rules: mapping.rules.length, format: mapping.source.format } });
    return { mapping, created };
  });
}

/** The shipped mappings and the partner's own. */
export async function listMappings({ ctx }: { ctx: ServiceContext }): Promise<MappingSummary[]> {
  const partnerId = requirePartner(ctx);
  const shipped = [...shippedNames()].sort().map((name): MappingSummary => {
    const mapping = loadMapping(name);
    return { name, origin: 'shipped', format: mapping.source.format, description: mapping.description ?? null, updatedAt: null };
  });
  const own = (await selectPartnerMappings(ctx.db, partnerId)).map((stored): MappingSummary => {
    const mapping = stored.mapping as { description?: string; source?: { format?: string } };
    return { name: stored.name, origin: 'partner', format: mapping.source?.format ?? 'csv', description: mapping.description ?? null, updatedAt: stored.updatedAt };
  });
  return [...shipped, ...own];
}

/** One mapping the partner may use, as JSON. */
export async function getMapping({ ctx, name }: { ctx: ServiceContext; name: string }): Promise<Mapping> {
  const mapping = await findMapping(ctx.db, requirePartner(ctx), name);
  if (!mapping) throw new AppError('not_found', `There is no mapping "${name}" (see GET /v1/mappings).`);
  return mapping;
}
