/**
 * Audit events as FHIR R4 AuditEvent resources, after the IHE Basic Audit Log Patterns (BALP):
 * disclosures as PrivacyDisclosure, match queries as Query (with a field-only descriptor, never
 * the request), consent decisions as AuthZconsent, failed authentications as access denied.
 * Records appear by keyed pseudonym only.
 */
import type { AuditEvent } from '../store/audit-events.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const ISO_21089 = 'urn:oid:1.0.21089';
const PARTNER = 'urn:customer-exchange:partner';
const PSEUDONYM = 'urn:customer-exchange:record-pseudonym';
const JTI = 'urn:ietf:params:oauth:jwt-id';

type Coding = { system: string; code: string; display?: string };
const outcomeCode = { success: '0', denied: '4', failure: '8' } as const;

function shape(event: AuditEvent): { profile: string; type: Coding; subtype?: Coding[]; action: string } {
  switch (event.action) {
    case 'record.disclose':
      return {
        profile: 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source',
        type: { system: DCM, code: '110106', display: 'Export' },
        subtype: [{ system: ISO_21089, code: 'disclose', display: 'Disclose Record Lifecycle Event' }],
        action: 'R',
      };
    case 'match.query':
    case 'match.refuse':
      return {
        profile: 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Query',
        type: { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
        subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search', display: 'search' }],
        action: 'E',
      };
    case 'consent.verify':
      return {
        profile: 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.AuthZconsent',
        type: { system: DCM, code: '110113', display: 'Security Alert' },
        subtype: [{ system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'AuthZ-Consent', display: 'Authorization Consent Decision' }],
        action: 'E',
      };
    case 'auth.fail':
      return { profile: 'http://hl7.org/fhir/StructureDefinition/AuditEvent', type: { system: DCM, code: '110114', display: 'User Authentication' }, action: 'E' };
    default: {
      const verb = event.action.split('.')[1] ?? '';
      const action = /create|complete/.test(verb) ? 'C' : /erase|revoke|fail|reject/.test(verb) ? 'D' : /replace|lift/.test(verb) ? 'U' : 'E';
      return { profile: 'http://hl7.org/fhir/StructureDefinition/AuditEvent', type: { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' }, action };
    }
  }
}

const partnerAgent = (id: string, role: Coding, requestor: boolean, purpose?: string) => ({
  type: { coding: [role] },
  who: { identifier: { system: PARTNER, value: id } },
  requestor,
  ...(purpose ? { purposeOfUse: [{ coding: [{ system: 'urn:customer-exchange:purpose', code: purpose }] }] } : {}),
});

export function fhirAuditEvent(event: AuditEvent): Record<string, unknown> {
  const { profile, type, subtype, action } = shape(event);
  const details = event.details as { jti?: string; grantee?: string; purpose?: string; criteria?: string[]; results?: { record: string }[]; reason?: string };
  const agents: Record<string, unknown>[] = [];
  if (event.actorPartnerId) agents.push(partnerAgent(event.actorPartnerId, { system: DCM, code: '110153', display: 'Source Role ID' }, true, details.purpose));
  else agents.push({ type: { coding: [{ system: DCM, code: '110150', display: 'Application' }] }, who: { display: event.actorType }, requestor: true });
  if (details.grantee && details.grantee !== event.actorPartnerId) agents.push(partnerAgent(details.grantee, { system: DCM, code: '110152', display: 'Destination Role ID' }, false, details.purpose));
  if (event.partnerId && event.partnerId !== event.actorPartnerId) agents.push(partnerAgent(event.partnerId, { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'CUST', display: 'custodian' }, false));

  const entities: Record<string, unknown>[] = [];
  const records = [...(details.results ?? []).map((r) => r.record), ...(event.targetType === 'record' && event.targetId ? [event.targetId] : [])];
  for (const record of records) entities.push({ what: { identifier: { system: PSEUDONYM, value: record } }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } });
  if (details.jti) entities.push({ what: { identifier: { system: JTI, value: details.jti } }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, description: 'consent token (jti)' });
  // BALP would carry the raw query; ours names the criteria fields only.
  if (details.criteria) entities.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' }, description: `criteria fields: ${details.criteria.join(', ')}` });

  return {
    resourceType: 'AuditEvent',
    id: String(event.id),
    meta: { profile: [profile] },
    type,
    ...(subtype ? { subtype } : {}),
    action,
    recorded: event.occurredAt.toISOString(),
    outcome: outcomeCode[event.outcome],
    ...(event.outcome !== 'success' && details.reason ? { outcomeDesc: details.reason } : {}),
    ...(details.purpose ? { purposeOfEvent: [{ coding: [{ system: 'urn:customer-exchange:purpose', code: details.purpose }] }] } : {}),
    agent: agents,
    source: { observer: { display: 'customer-exchange' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    entity: entities,
    extension: [{ url: 'urn:customer-exchange:audit-action', valueCode: event.action }, ...(event.logIndex !== null ? [{ url: 'urn:customer-exchange:log-index', valueString: String(event.logIndex) }] : [])],
  };
}
