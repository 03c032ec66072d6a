/**
 * The canonical customer record, version 1 of the Customer Exchange standard. Every field carries
 * its meaning, an example and its normalisation rule; the JSON Schema and the field dictionary
 * under standards/customer/v1/ are generated from these definitions.
 * Versioning: 1.x only ever adds optional fields, so a 1.0 record stays valid under every 1.x.
 */
import { z } from 'zod';
import {
  channels,
  consentStatuses,
  contactPointTypes,
  educationLevels,
  genders,
  identifierSchemes,
  lawfulBases,
  maritalStatuses,
  purposes,
} from './code-lists.js';
import { isCountryCode, isCurrencyCode } from './normalise/index.js';

export const STANDARD_NAME = 'customer';
export const STANDARD_VERSION = '1.1.0';

interface FieldDoc {
  description: string;
  example: unknown;
  rule?: string;
}

/** Attaches the dictionary entry of a field to its schema. */
function doc<T extends z.ZodType>(schema: T, { description, example, rule }: FieldDoc): T {
  return schema.meta({ description, examples: [example], ...(rule ? { 'x-normalisation': rule } : {}) }) as T;
}

const text = (max = 200) => z.string().min(1).max(max);
const isoDate = z.iso.date();
/** A full date, or a year-month or year alone (1.1.0). */
const partialIsoDate = z.union([isoDate, z.string().regex(/^\d{4}(-(0[1-9]|1[0-2]))?$/, 'YYYY-MM-DD, YYYY-MM or YYYY')]);
const instant = z.iso.datetime({ offset: true });
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be two capital letters').refine(isCountryCode, 'not an ISO 3166-1 alpha-2 country code');
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be three capital letters').refine(isCurrencyCode, 'not an ISO 4217 currency code');

const money = (description: string, example: number) =>
  doc(
    z.object({
      amount: doc(z.number().finite(), { description: 'The amount, in units of the currency (not cents).', example, rule: 'Thousands separators removed; rounded to 2 decimals.' }),
      currency: doc(currencyCode, { description: 'ISO 4217 currency code.', example: 'CNY', rule: 'Symbols (¥, $, €, £) and codes to the ISO 4217 code.' }),
    }).strict(),
    { description, example: { amount: example, currency: 'CNY' } },
  );

export const customerNameSchema = z
  .object({
    full: doc(text(300), { description: 'The full name as written by the source, in its own script and order.', example: '张伟', rule: 'White space collapsed; spelling kept.' }),
    given: doc(text(), { description: 'Given (first) name.', example: 'Wei', rule: 'White space collapsed; spelling kept. Chinese names: the characters after the family name.' }),
    middle: doc(text(), { description: 'Middle names or initials.', example: 'A.', rule: 'White space collapsed.' }),
    family: doc(text(), { description: 'Family name (surname).', example: 'Zhang', rule: 'White space collapsed. Chinese names: the first character, or the compound surname (欧阳, 司马…).' }),
  })
  .strict();

export const customerRecordSchema = z
  .object({
    standardVersion: doc(z.string().regex(/^1\.\d+\.\d+$/, 'must be a 1.x version of the standard'), {
      description: 'The version of the standard the record follows.',
      example: STANDARD_VERSION,
    }),
    source: doc(
      z
        .object({
          recordId: doc(text(200), { description: "The partner's own id of the customer; required, unique within a dataset.", example: '0035g00000AbCdE', rule: 'Trimmed.' }),
          updatedAt: doc(instant, { description: 'When the source last changed the record.', example: '2024-03-01T09:30:00.000Z', rule: 'ISO 8601 instant in UTC.' }),
        })
        .strict()
        .partial({ updatedAt: true }),
      { description: 'Where the record comes from.', example: { recordId: '0035g00000AbCdE' } },
    ),
    name: doc(customerNameSchema.partial(), { description: "The customer's name; Latin and Chinese names alike.", example: { full: '张伟', family: '张', given: '伟' } }),
    birthDate: doc(partialIsoDate, {
      description: 'Date of birth; a year and month, or a year, when only that is known (as FHIR\'s date type).',
      example: '1980-01-02',
      rule: "YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY (or MM/DD/YYYY when the mapping says so), 1980年1月2日 … to ISO YYYY-MM-DD; impossible dates rejected, or with the date transform's `partial` kept as YYYY-MM or YYYY (1985-02-30 → 1985-02).",
    }),
    gender: doc(z.enum(genders), { description: 'Gender, from the gender code list.', example: 'female', rule: 'Source words (F, Mrs, 女…) matched to the code list.' }),
    emails: doc(
      z.array(
        z
          .object({
            address: doc(text(254), { description: 'Email address.', example: 'wei.zhang@example.com', rule: 'Trimmed, lower-cased, "mailto:" removed; shape checked.' }),
            type: doc(z.enum(contactPointTypes), { description: 'Kind of contact point.', example: 'work' }),
          })
          .strict()
          .partial({ type: true }),
      ).max(20),
      { description: 'Email addresses.', example: [{ address: 'wei.zhang@example.com', type: 'work' }] },
    ),
    phones: doc(
      z.array(
        z
          .object({
            number: doc(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, like +8613812345678'), { description: 'Phone number in E.164.', example: '+8613812345678', rule: 'libphonenumber to E.164, with the mapping\'s default country for numbers without a prefix; invalid numbers rejected.' }),
            type: doc(z.enum(contactPointTypes), { description: 'Kind of contact point.', example: 'mobile' }),
          })
          .strict()
          .partial({ type: true }),
      ).max(20),
      { description: 'Phone numbers.', example: [{ number: '+8613812345678', type: 'mobile' }] },
    ),
    addresses: doc(
      z.array(
        z
          .object({
            lines: doc(z.array(text(300)).max(5), { description: 'Street lines, most specific first.', example: ['88 Century Avenue', 'Floor 12'], rule: 'White space collapsed; empty lines dropped.' }),
            locality: doc(text(), { description: 'City, town or suburb.', example: 'Shanghai', rule: 'White space collapsed.' }),
            region: doc(text(), { description: 'State, province or region.', example: 'Shanghai', rule: 'White space collapsed.' }),
            postcode: doc(text(20), { description: 'Postal code.', example: '200120', rule: 'Upper-cased, re-spaced; shape checked for GB, US, CN, AU, DE, FR, CA, NL, JP.' }),
            country: doc(countryCode, { description: 'ISO 3166-1 alpha-2 country.', example: 'CN', rule: 'Country names (English or Chinese) and codes to alpha-2.' }),
            type: doc(z.enum(contactPointTypes), { description: 'Kind of address.', example: 'home' }),
          })
          .strict()
          .partial(),
      ).max(20),
      { description: 'Postal addresses.', example: [{ lines: ['88 Century Avenue'], locality: 'Shanghai', postcode: '200120', country: 'CN', type: 'home' }] },
    ),
    identifiers: doc(
      z.array(
        z
          .object({
            scheme: doc(z.enum(identifierSchemes), { description: 'What kind of identifier.', example: 'national_id' }),
            value: doc(text(100), { description: 'The identifier.', example: '110101198001020013', rule: 'Trimmed, upper-cased, spaces and hyphens removed.' }),
            issuer: doc(countryCode, { description: 'Issuing country, where it matters.', example: 'CN' }),
          })
          .strict()
          .partial({ issuer: true }),
      ).max(20),
      { description: 'Identity documents and account numbers.', example: [{ scheme: 'national_id', value: '110101198001020013', issuer: 'CN' }] },
    ),
    demographics: doc(
      z
        .object({
          occupation: doc(text(), { description: 'Occupation as the source states it.', example: 'Engineer' }),
          educationLevel: doc(z.enum(educationLevels), { description: 'Highest education level (ISCED-based code list).', example: 'bachelor', rule: 'Source words (本科, BSc, high school…) matched to the code list.' }),
          maritalStatus: doc(z.enum(maritalStatuses), { description: 'Marital status.', example: 'married' }),
          monthlyIncome: money('Monthly income.', 25000),
        })
        .strict()
        .partial(),
      { description: 'Demographic indicators.', example: { occupation: 'Engineer', educationLevel: 'bachelor' } },
    ),
    behaviour: doc(
      z
        .object({
          visitCount: doc(z.number().int().nonnegative(), { description: 'Number of visits (store, branch, site or app).', example: 42 }),
          visitDurationSeconds: doc(z.number().nonnegative(), { description: 'Total time spent on visits, in seconds.', example: 5400 }),
          lastActivityAt: doc(instant, { description: 'Last recorded activity.', example: '2024-05-01T12:00:00.000Z', rule: 'ISO 8601 instant in UTC.' }),
          channels: doc(z.array(z.enum(channels)).max(10), { description: 'Channels the customer uses.', example: ['store', 'mobile_app'] }),
        })
        .strict()
        .partial(),
      { description: 'Behaviour indicators.', example: { visitCount: 42 } },
    ),
    value: doc(
      z
        .object({
          totalSpend: money('Total spend over the relationship.', 128000),
          annualAverageSpend: money('Average spend per year.', 16000),
          lastMonthSpend: money('Spend in the last month.', 1200),
          lastThreeMonthsSpend: money('Spend in the last three months.', 4100),
          firstPurchaseDate: doc(isoDate, { description: 'Date of the first purchase.', example: '2016-02-11' }),
          lastPurchaseDate: doc(isoDate, { description: 'Date of the last purchase.', example: '2024-04-28' }),
        })
        .strict()
        .partial(),
      { description: 'Value indicators.', example: { totalSpend: { amount: 128000, currency: 'CNY' } } },
    ),
    consents: doc(
      z.array(
        z
          .object({
            purpose: doc(z.enum(purposes), { description: 'Purpose of processing, from the purpose vocabulary.', example: 'marketing' }),
            status: doc(z.enum(consentStatuses), { description: 'What the customer said.', example: 'granted' }),
            lawfulBasis: doc(z.enum(lawfulBases), { description: 'GDPR Art. 6 lawful basis.', example: 'consent' }),
            capturedAt: doc(instant, { description: 'When the consent was captured.', example: '2023-06-01T00:00:00.000Z' }),
            expiresAt: doc(instant, { description: 'When it lapses.', example: '2025-06-01T00:00:00.000Z' }),
          })
          .strict()
          .partial({ lawfulBasis: true, capturedAt: true, expiresAt: true }),
      ).max(50),
      { description: "The customer's consents, per purpose.", example: [{ purpose: 'marketing', status: 'granted', lawfulBasis: 'consent' }] },
    ),
    ext: doc(z.record(z.string().regex(/^[a-z][a-z0-9_-]{1,62}$/, 'namespaces are lowercase'), z.record(z.string(), z.unknown())), {
      description: 'Partner-specific fields outside the standard, under a namespace (usually the partner slug).',
      example: { 'acme-bank': { branchCode: 'SH-012' } },
    }),
  })
  .strict()
  .partial()
  .required({ standardVersion: true, source: true });

export type CustomerRecord = z.infer<typeof customerRecordSchema>;
