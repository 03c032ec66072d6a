/**
 * The mapping language: a JSON file that says how one export format becomes canonical records.
 * Documented for people in mappings/README.md; this schema is what every mapping is checked against.
 */
import { z } from 'zod';
import { codeLists } from '../standard/code-lists.js';
import { dateFormats, isTimeZone } from '../standard/normalise/dates.js';

const countryParam = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as "CN"');

/** Each transform: its name in `op` and its parameters. */
export const transformSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('trim') }).strict().describe('Trim and collapse white space.'),
  z.object({ op: z.literal('case'), to: z.enum(['upper', 'lower', 'title']) }).strict(),
  z.object({ op: z.literal('nullIf'), values: z.array(z.string()).min(1) }).strict().describe('Treat these values (case-insensitive) as empty, e.g. "N/A".'),
  z.object({ op: z.literal('split'), separator: z.string().min(1), index: z.number().int().optional() }).strict().describe('Split into a list, or pick one part (negative counts from the end).'),
  z.object({ op: z.literal('concat'), separator: z.string().default(' ') }).strict().describe('Join the values of several columns, skipping empty ones.'),
  z.object({ op: z.literal('regex'), pattern: z.string(), group: z.union([z.number().int().min(0), z.string()]).default(1), flags: z.string().regex(/^[imsu]*$/).optional() }).strict().describe('Extract a group; a value that does not match is invalid.'),
  z.object({ op: z.literal('replace'), pattern: z.string(), with: z.string(), flags: z.string().regex(/^[imsu]*$/).optional() }).strict(),
  z
    .object({
      op: z.literal('date'),
      formats: z.array(z.enum(dateFormats)).min(1).optional(),
      order: z.enum(['DMY', 'MDY']).optional(),
      partial: z.boolean().optional().describe('Keep what is known of a partial or impossible date: YYYY-MM or YYYY (birth dates).'),
    })
    .strict()
    .describe('Parse a date to YYYY-MM-DD.'),
  z.object({ op: z.literal('timestamp'), formats: z.array(z.enum(dateFormats)).min(1).optional(), order: z.enum(['DMY', 'MDY']).optional() }).strict().describe('Parse a timestamp to an ISO 8601 instant.'),
  z.object({ op: z.literal('number'), decimal: z.enum(['.', ',']).optional() }).strict(),
  z.object({ op: z.literal('integer') }).strict(),
  z.object({ op: z.literal('money'), currency: z.string().regex(/^[A-Z]{3}$/).optional(), decimal: z.enum(['.', ',']).optional() }).strict().describe('Parse an amount with its currency.'),
  z.object({ op: z.literal('phone'), country: countryParam.optional() }).strict().describe('To E.164; the default country is the mapping\'s unless given.'),
  z.object({ op: z.literal('email') }).strict(),
  z.object({ op: z.literal('country') }).strict().describe('Country name or code to ISO 3166-1 alpha-2.'),
  z.object({ op: z.literal('postcode'), country: countryParam.optional() }).strict(),
  z.object({ op: z.literal('identifier') }).strict().describe('Upper-case, drop spaces and hyphens.'),
  z.object({ op: z.literal('name'), part: z.enum(['given', 'middle', 'family']) }).strict().describe('Take one part of a full name (Chinese names: family name first).'),
  z.object({
    op: z.literal('lookup'),
    table: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    caseInsensitive: z.boolean().default(true),
    otherwise: z.enum(['invalid', 'keep', 'empty']).default('invalid'),
  }).strict().describe('Translate through a table.'),
  z.object({
    op: z.literal('vocabulary'),
    list: z.enum(Object.keys(codeLists) as [keyof typeof codeLists, ...(keyof typeof codeLists)[]]),
    minScore: z.number().min(0).max(1).default(0.7),
  }).strict().describe('Match to one of the standard\'s code lists, fuzzily (fuse.js), at a minimum score.'),
  z.object({ op: z.literal('default'), value: z.union([z.string(), z.number(), z.boolean()]) }).strict().describe('Fill an empty value; the only way a mapping invents data.'),
  z.object({ op: z.literal('required') }).strict().describe('An empty value rejects the row.'),
]);
export type Transform = z.infer<typeof transformSchema>;
export type TransformOp = Transform['op'];

export const transformNames: readonly string[] = transformSchema.options.map((o) => o.shape.op.value);

/** A transform is written `"trim"` when it takes no parameters, else as an object with `op`. */
const transformEntrySchema = z.preprocess((value) => (typeof value === 'string' ? { op: value } : value), transformSchema);

export const conditionSchema = z
  .object({
    column: z.string().min(1),
    equals: z.string().optional(),
    in: z.array(z.string()).optional(),
    notEmpty: z.boolean().optional(),
    matches: z.string().optional(),
  })
  .strict()
  .describe('The rule applies only to rows where the column meets every test given.');

/** Several names for one column, in order of preference: the first the file has is read. */
export const columnAlternativesSchema = z
  .object({ anyOf: z.array(z.string().min(1)).min(1).describe('Names real exports give this column, preferred first.') })
  .strict();

/** The column names a rule's `from` (or a record id) names: one, several joined, or alternatives. */
export function columnsOf(from: string | string[] | { anyOf: string[] } | undefined): string[] {
  return from === undefined ? [] : typeof from === 'string' ? [from] : Array.isArray(from) ? from : from.anyOf;
}

export const ruleSchema = z
  .object({
    target: z.string().min(1).describe('Canonical field path; arrays take a group, e.g. "phones[mobile].number".'),
    from: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1), columnAlternativesSchema])
      .optional()
      .describe('Column name(s), or dotted JSON path(s) for JSON sources; { "anyOf": [...] } names one column several ways. A column the file lacks skips the rule (reported), unless the rule is required.'),
    required: z.boolean().optional().describe('The file must have this rule\'s column (the record id always must). The "required" transform also makes it so, and refuses an empty value.'),
    value: z.union([z.string(), z.number(), z.boolean()]).optional().describe('A constant, e.g. the type of a contact point.'),
    transforms: z.array(transformEntrySchema).default([]),
    when: conditionSchema.optional(),
    confidence: z.number().min(0).max(1).optional().describe('How sure `cx mappings suggest` was of this rule; review low ones. Ignored when mapping.'),
  })
  .strict()
  .refine((rule) => (rule.from === undefined) !== (rule.value === undefined), { message: 'a rule takes either "from" or "value"' });
export type Rule = z.infer<typeof ruleSchema>;

export const sourceSchema = z
  .object({
    format: z.enum(['csv', 'ndjson', 'json']),
    encoding: z
      .enum(['utf-8', 'gb18030', 'gbk', 'utf-16le', 'latin1', 'windows-1252'])
      .optional()
      .describe('Unset: detected (a BOM decides, then valid UTF-8, then GB18030). Stated: text it cannot read is refused, naming the line.'),
    delimiter: z.string().min(1).max(4).default(','),
    quote: z.string().length(1).default('"'),
    header: z.boolean().default(true).describe('CSV: the first row names the columns.'),
    columns: z.array(z.string()).optional().describe('CSV without a header: the column names, in order.'),
    recordsPath: z.string().optional().describe('JSON: dotted path to the array of records.'),
    recordId: z.union([z.string().min(1), columnAlternativesSchema]).describe('The column (or JSON path) holding the source record id; { "anyOf": [...] } for several names.'),
    defaultCountry: z.string().regex(/^[A-Z]{2}$/).optional().describe('For phone numbers without a country prefix.'),
    defaultCurrency: z.string().regex(/^[A-Z]{3}$/).optional(),
    dateOrder: z.enum(['DMY', 'MDY']).default('DMY').describe('How to read 03/04/1980.'),
    timeZone: z
      .string()
      .refine(isTimeZone, 'not an IANA time zone (for example UTC, Asia/Shanghai, America/New_York)')
      .default('UTC')
      .describe('The zone of times written without an offset ("2024-05-01 12:00"); times with one (Z, +08:00) keep it.'),
  })
  .strict();

export const mappingSchema = z
  .object({
    $schema: z.string().optional(),
    $comment: z.string().optional().describe('Free text: `cx mappings suggest` lists the columns it could not match here.'),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    description: z.string().optional(),
    standardVersion: z.string().regex(/^1\.\d+\.\d+$/).default('1.0.0'),
    source: sourceSchema,
    rules: z.array(ruleSchema).min(1),
  })
  .strict()
  .superRefine((mapping, ctx) => {
    // Partial dates (YYYY-MM, YYYY) came with standard 1.1.0: a 1.0 mapping's records could not hold them.
    if (!mapping.standardVersion.startsWith('1.0.')) return;
    mapping.rules.forEach((rule, i) =>
      rule.transforms.forEach((transform, j) => {
        if (typeof transform === 'object' && transform.op === 'date' && transform.partial) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'transforms', j, 'partial'], message: 'partial dates need "standardVersion": "1.1.0" or later' });
        }
      }),
    );
  });
export type Mapping = z.infer<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;
