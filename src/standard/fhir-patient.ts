/**
 * The canonical customer as a FHIR R4 Patient, and a FHIR Patient read as match criteria: the
 * standard's fields mapped one to one (name, birth date, gender, telecom, address, identifiers).
 */
import { z } from 'zod';
import { contactPointTypes, genders, identifierSchemes } from './code-lists.js';
import type { CustomerRecord } from './customer.js';

/** The system of an identifier of the standard's scheme, in both directions. */
export const identifierSystem = (scheme: string) => `urn:customer-exchange:identifier:${scheme}`;
const schemeOfSystem = new Map(identifierSchemes.map((scheme) => [identifierSystem(scheme), scheme]));

const fhirString = z.string().trim().min(1);
const humanName = z.object({ use: z.string().optional(), text: fhirString.optional(), family: fhirString.optional(), given: z.array(fhirString).optional() });
const contactPoint = z.object({ system: z.string().optional(), value: fhirString.optional(), use: z.string().optional() });
const fhirAddress = z.object({ line: z.array(fhirString).optional(), city: fhirString.optional(), state: fhirString.optional(), postalCode: fhirString.optional(), country: fhirString.optional() });
const fhirIdentifier = z.object({ system: z.string().optional(), value: fhirString.optional() });

/**
 * The parts of a Patient the matcher reads; the rest of the resource (meta, extensions,
 * contacts…) is allowed and ignored, as a FHIR server ignores what it does not support.
 */
export const fhirPatientSchema = z
  .looseObject({
    resourceType: z.literal('Patient'),
    id: z.string().optional().describe("In answers: a UUID derived from the record's keyed pseudonym, the same in every answer."),
    name: z.array(humanName).optional(),
    birthDate: z.string().regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, 'must be a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD').optional(),
    gender: z.enum(genders).optional(),
    telecom: z.array(contactPoint).optional(),
    address: z.array(fhirAddress).optional(),
    identifier: z
      .array(fhirIdentifier)
      .optional()
      .describe('urn:customer-exchange:identifier:{scheme} for the standard\'s identifiers; in answers, first urn:customer-exchange:dataset:{datasetId} with the source id at the grantor.'),
  })
  .meta({ id: 'FhirPatient', description: 'A FHIR R4 Patient, as far as the standard maps it: name, birth date, gender, telecom, address, identifiers. Other elements are allowed and ignored.' });
export type FhirPatient = z.infer<typeof fhirPatientSchema>;

/** What a Patient says of a person, in the words of a match query's criteria (the first of each). */
export function patientCriteria(patient: FhirPatient) {
  const name = patient.name?.find((n) => n.use !== 'old') ?? patient.name?.[0];
  const given = name?.given?.join(' ');
  const address = patient.address?.[0];
  const email = patient.telecom?.find((t) => t.system === 'email')?.value;
  const phone = patient.telecom?.find((t) => t.system === 'phone' || t.system === 'sms')?.value;
  const identifier = patient.identifier
    ?.map((i) => ({ scheme: schemeOfSystem.get(i.system ?? ''), value: i.value }))
    .find((i): i is { scheme: (typeof identifierSchemes)[number]; value: string } => Boolean(i.scheme && i.value));
  const country = address?.country?.toUpperCase();
  const criteria = {
    given,
    family: name?.family,
    // A name given only as text is matched as a whole name.
    full: !given && !name?.family ? name?.text : undefined,
    birthDate: patient.birthDate,
    gender: patient.gender,
    email,
    phone,
    street: address?.line?.join(', '),
    locality: address?.city,
    postcode: address?.postalCode,
    country: country && /^[A-Z]{2}$/.test(country) ? country : undefined,
    identifier,
  };
  return Object.fromEntries(Object.entries(criteria).filter(([, value]) => value !== undefined)) as Partial<typeof criteria>;
}

const telecomUse = (type: (typeof contactPointTypes)[number] | undefined) => (type === 'home' || type === 'work' || type === 'mobile' ? type : undefined);
const addressUse = (type: (typeof contactPointTypes)[number] | undefined) => (type === 'home' || type === 'work' || type === 'billing' ? type : undefined);
const withUse = <T extends object>(value: T, use: string | undefined) => (use ? { use, ...value } : value);

/**
 * A canonical record (already cut to what a grant discloses) as a FHIR Patient with the given id;
 * `identifier` comes first: where the record lives at the grantor (its dataset and source id).
 */
export function recordToPatient(id: string, identifier: { system: string; value: string }, record: Partial<CustomerRecord>) {
  const name = record.name;
  const humanNames = name && (name.family || name.given || name.full) ? [{ ...(name.full ? { text: name.full } : {}), ...(name.family ? { family: name.family } : {}), ...(name.given ? { given: name.given.split(/\s+/) } : {}) }] : [];
  const telecom = [
    ...(record.phones ?? []).map((p) => withUse({ system: 'phone', value: p.number }, telecomUse(p.type))),
    ...(record.emails ?? []).map((e) => withUse({ system: 'email', value: e.address }, telecomUse(e.type))),
  ];
  const address = (record.addresses ?? []).map((a) =>
    withUse(
      {
        ...(a.lines?.length ? { line: a.lines } : {}),
        ...(a.locality ? { city: a.locality } : {}),
        ...(a.region ? { state: a.region } : {}),
        ...(a.postcode ? { postalCode: a.postcode } : {}),
        ...(a.country ? { country: a.country } : {}),
      },
      addressUse(a.type),
    ),
  );
  return {
    resourceType: 'Patient' as const,
    id,
    identifier: [identifier, ...(record.identifiers ?? []).map((i) => ({ system: identifierSystem(i.scheme), value: i.value }))],
    ...(humanNames.length ? { name: humanNames } : {}),
    ...(telecom.length ? { telecom } : {}),
    ...(record.gender ? { gender: record.gender } : {}),
    ...(record.birthDate ? { birthDate: record.birthDate } : {}),
    ...(address.length ? { address } : {}),
  };
}
