/** The standard's published forms, generated from the zod definition: JSON Schema, field dictionary, target paths. */
import { z } from 'zod';
import { codeLists, codeSynonyms, purposePolicies, type CodeListName } from './code-lists.js';
import { customerRecordSchema, STANDARD_NAME, STANDARD_VERSION } from './customer.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  description?: string;
  examples?: unknown[];
  additionalProperties?: JsonSchema | boolean;
  'x-normalisation'?: string;
  [key: string]: unknown;
};

export function customerJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(customerRecordSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return {
    $schema: schema.$schema,
    $id: `https://customer-exchange.dev/standards/${STANDARD_NAME}/v1/schema.json`,
    title: `Customer Exchange canonical customer record ${STANDARD_VERSION}`,
    ...schema,
  };
}

export interface DictionaryEntry {
  path: string;
  type: string;
  required: boolean;
  description: string;
  example: unknown;
  normalisation: string;
}

function describeType(node: JsonSchema): string {
  if (node.enum) return `code: ${node.enum.join(' \\| ')}`;
  if (node.type === 'array') return `array of ${node.items ? describeType(node.items) : 'values'}`;
  if (node.format) return `${node.type} (${node.format})`;
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') return 'object (map)';
  return String(node.type ?? 'any');
}

/** Every field of the record, depth first: objects by dotted path, array elements as `[]`. */
export function customerDictionary(): DictionaryEntry[] {
  const entries: DictionaryEntry[] = [];
  const walk = (node: JsonSchema, path: string, required: boolean) => {
    if (path) {
      entries.push({
        path,
        type: describeType(node),
        required,
        description: node.description ?? '',
        example: node.examples?.[0],
        normalisation: node['x-normalisation'] ?? '',
      });
    }
    const object = node.type === 'array' && node.items?.type === 'object' ? node.items : node.type === 'object' ? node : undefined;
    if (!object?.properties) return;
    const prefix = node.type === 'array' ? `${path}[]` : path;
    for (const [key, child] of Object.entries(object.properties)) {
      walk(child, prefix ? `${prefix}.${key}` : key, (object.required ?? []).includes(key));
    }
  };
  walk(customerJsonSchema(), '', true);
  return entries;
}

const moneyFields = new Set(['demographics.monthlyIncome', 'value.totalSpend', 'value.annualAverageSpend', 'value.lastMonthSpend', 'value.lastThreeMonthsSpend']);

/**
 * The paths a mapping rule may target: scalar fields, arrays of scalars (`addresses[].lines`),
 * and money objects (`value.totalSpend`, filled by the money transform).
 */
export function mappableTargets(): Map<string, DictionaryEntry> {
  return new Map(
    customerDictionary()
      .filter((e) => moneyFields.has(e.path) || (!e.type.startsWith('object') && !e.type.startsWith('array of object') && e.path !== 'standardVersion'))
      .map((e) => [e.path, e]),
  );
}

export function customerDictionaryMarkdown(): string {
  const cell = (value: unknown) => (value === undefined ? '' : String(typeof value === 'string' ? value : JSON.stringify(value)).replaceAll('|', '\\|'));
  const rows = customerDictionary().map(
    (e) => `| \`${e.path}\` | ${e.type} | ${e.required ? 'yes' : ''} | ${cell(e.description)} | ${e.example === undefined ? '' : `\`${cell(e.example)}\``} | ${cell(e.normalisation)} |`,
  );
  const lists = Object.entries(codeLists).map(([name, values]) => {
    const words = codeSynonyms[name as CodeListName];
    const also = words ? Object.entries(words).map(([code, list]) => `\`${code}\` ← ${list.map((w) => `"${w}"`).join(', ')}`).join('; ') : '';
    return `- **${name}**: ${values.map((v) => `\`${v}\``).join(', ')}${also ? `. Words the \`vocabulary\` transform also reads: ${also}` : ''}`;
  });
  return [
    `# Customer record, standard ${STANDARD_VERSION}`,
    '',
    '<!-- Generated from src/standard/customer.ts by `npm run standards:generate`; do not edit by hand. -->',
    '',
    'The canonical customer record every partner export is mapped to. Machine-readable form: [`schema.json`](schema.json) (JSON Schema 2020-12).',
    '',
    '- **Versioning.** Semantic versions. Every 1.x release only adds optional fields, so a record valid under 1.0 stays valid under every 1.x. Each record states its `standardVersion`.',
    '- **Originals and comparison forms.** Names keep the source spelling; the exchange derives comparison forms (case and diacritics folded, phonetic keys) when it stores them.',
    '- **Missing values stay missing.** A field the source does not have is absent, never guessed; only a mapping\'s explicit `default` fills one.',
    '',
    '## Fields',
    '',
    '| field | type | required | meaning | example | normalisation |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Code lists',
    '',
    ...lists,
    '',
    'Numeric codes differ from system to system (`1` is male in GB/T 2261.1, and something else elsewhere), so no code list reads them by itself: each adapter translates its source\'s codes with a `lookup` before the `vocabulary`. The shipped adapters\' code tables (GB/T 2261.1 gender, GB/T 2261.2 marital status, GB/T 4658 education, the common bank document-type codes) are listed in [mappings/README.md](../../../mappings/README.md#what-happens-to-bad-rows).',
    '',
    '## Purposes and record consent',
    '',
    "A record's `consents[]` govern whether it may be matched or disclosed for a purpose; the latest statement for the purpose decides. Opt-in purposes need a current `granted` statement; opt-out purposes are allowed unless denied or withdrawn. See [the consent token](../../consent/v1/README.md).",
    '',
    ...Object.entries(purposePolicies).map(([purpose, policy]) => `- \`${purpose}\`: ${policy === 'opt_in' ? 'opt-in' : 'opt-out'}`),
    '',
  ].join('\n');
}

export const standardsIndex = [
  {
    name: STANDARD_NAME,
    version: STANDARD_VERSION,
    major: 1,
    schema: `/v1/standards/${STANDARD_NAME}/1`,
    dictionary: `/v1/standards/${STANDARD_NAME}/1/dictionary`,
  },
];
