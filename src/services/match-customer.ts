import Fuse from 'fuse.js';
import { z } from 'zod';
import type { AuditEventInput } from '../audit/events.js';
import type { AuditFact } from '../audit/record-event.js';
import { AuditedRefusal, withConsent } from '../consent/authorize.js';
import type { Queryable } from '../store/database.js';
import type { ConsentGrant } from '../core/grant.js';
import { matchGrades } from '../core/grant.js';
import { AppError } from '../errors.js';
import { matchKeys, prepare } from '../match/features.js';
import { mergeBlocking } from '../match/blocking.js';
import { gradeRank, scorePair, type FieldExplanation } from '../match/model.js';
import { genders, identifierSchemes, purposes } from '../standard/code-lists.js';
import { STANDARD_VERSION, type CustomerRecord } from '../standard/customer.js';
import { NormaliseError, normaliseDate, normaliseEmail, normalisePhone, normalisePostcode } from '../standard/normalise/index.js';
import { defaultDateFormats, type DateFormat, type DateOrder } from '../standard/normalise/dates.js';
import { disclosedByMatch, disclosedMatchesSql, selectNameStatistics, selectProbeCandidates } from '../store/candidates.js';
import { recordMatchProbes } from '../store/match-probes.js';
import { recordPseudonym, secretsFor } from '../core/secrets.js';
import { discloseExplanation } from '../match/disclosure.js';
import { compareIds } from '../match/pairs.js';
import { createHash } from 'node:crypto';
import type { ServiceContext } from './context.js';
import { modelsForDatasets } from './models.js';
import { requirePartner } from './datasets.js';

const text = (max = 200) => z.string().trim().min(1).max(max);
const identifyingCriteria = ['birthDate', 'email', 'phone', 'identifier', 'postcode', 'street'] as const;
/** Year first: these read the same everywhere. */
const unambiguousDateFormats: DateFormat[] = ['YYYY-MM-DD', 'YYYYMMDD', 'YYYY/MM/DD', 'YYYY年M月D日'];

/** A criterion's birth date: year-first forms as they are; a day-or-month-first one only with a stated order. */
function criteriaDate(value: string, order: DateOrder | undefined): string {
  // A year, or a year and month, is what is known (FHIR's date type): kept as the standard keeps it.
  if (/^\s*\d{4}(-\d{1,2})?\s*$/.test(value)) return normaliseDate(value, unambiguousDateFormats, { partial: true });
  if (order) return normaliseDate(value, [...unambiguousDateFormats, ...defaultDateFormats(order)]);
  try {
    return normaliseDate(value, unambiguousDateFormats);
  } catch (error) {
    if (/^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\s*$/.test(value)) {
      throw new NormaliseError('is it day first or month first? Send YYYY-MM-DD, or say dateOrder "DMY" or "MDY"');
    }
    throw error;
  }
}

export const matchInput = z
  .object({
    purpose: z.enum(purposes).describe('Why you ask; must be the purpose your consent token grants.'),
    criteria: z
      .object({
        given: text().optional(),
        family: text().optional(),
        full: text().optional().describe('The whole name as written, when given and family are not known apart.'),
        birthDate: text(40).optional().describe('YYYY-MM-DD (also 19800102, 1980/01/02, 1980年1月2日), or YYYY-MM or YYYY when only that is known; a day-or-month-first form (02/01/1980) needs `dateOrder`.'),
        gender: z.enum(genders).optional().describe('From the gender code list; a different gender is strong evidence of another person.'),
        email: text(254).optional(),
        phone: text(40).optional(),
        postcode: text(20).optional(),
        locality: text().optional(),
        street: text(300).optional(),
        country: z.string().regex(/^[A-Z]{2}$/).optional().describe('ISO country for phones and postcodes without one.'),
        identifier: z.object({ scheme: z.enum(identifierSchemes), value: text(100) }).strict().optional(),
      })
      .strict()
      .default({}),
    dateOrder: z.enum(['DMY', 'MDY']).optional().describe('How to read a birth date such as 02/01/1980: day first (DMY) or month first (MDY). Without it only year-first forms are read.'),
    q: z.string().trim().min(1).max(500).optional().describe('Free text, e.g. "jon smyth shanghai 1980": candidates are ranked by it (fuse.js).'),
    limit: z.number().int().min(1).max(100).default(10),
    minGrade: z.enum(matchGrades).optional().describe("The weakest grade wanted; never weaker than the token's min_grade."),
  })
  .strict()
  .refine((input) => input.q || Object.keys(input.criteria).length > 0, { message: 'give criteria, q, or both', path: ['criteria'] })
  // A query must say whom it looks for: a name alone asks "is this name among your customers?", and
  // one identifier alone asks "is this email (phone, birth date) among them?".
  .refine((input) => Boolean(input.q || input.criteria.given || input.criteria.family || input.criteria.full), {
    message: 'criteria must hold a name (given, family or full, or q)',
    path: ['criteria'],
  })
  .refine((input) => identifyingCriteria.some((field) => input.criteria[field] !== undefined), {
    message: `besides the name, criteria must hold at least one of ${['birthDate', 'email', 'phone', 'identifier', 'postcode', 'street'].join(', ')}`,
    path: ['criteria'],
  });

export const matchResultSchema = z.object({
  datasetId: z.uuid(),
  sourceId: z.string(),
  probability: z.number().optional().describe('Fellegi-Sunter match probability, 0–1; absent when the token grants grades only.'),
  matchWeight: z.number().optional().describe('Sum of log2(m/u) over the fields, with the prior; absent when the token grants grades only.'),
  grade: z.enum(matchGrades),
  model: z.string().describe('The model that scored it: "default" (the shipped one) or the id of the model its dataset names.'),
  explanation: z
    .array(z.object({ comparison: z.string(), level: z.string(), weight: z.number().optional() }))
    .describe('Per field the token discloses: the level reached and the weight it added; the other fields summed as one "undisclosed" weight. No weights when the token grants grades only.'),
  textScore: z.number().optional().describe('fuse.js score of q against the record (0 best), when q was given.'),
  record: z.record(z.string(), z.unknown()).optional().describe('Only the fields the token discloses; absent when it grants no disclose.'),
});
export type MatchResult = z.infer<typeof matchResultSchema>;
type MatchAnswer = { results: MatchResult[]; candidates: number };

/** The criteria as a canonical record, normalised as uploads are; a value that cannot be read is a 400 naming it. */
function probeRecord(input: z.infer<typeof matchInput>): CustomerRecord {
  const c = input.criteria;
  const errors: { path: string; message: string }[] = [];
  const normalise = <T>(path: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof NormaliseError) errors.push({ path: `/criteria/${path}`, message: error.message });
      else throw error;
      return undefined;
    }
  };
  const words = input.q?.split(/\s+/) ?? [];
  const year = words.find((w) => /^(19|20)\d\d$/.test(w));
  const nameWords = words.filter((w) => w !== year);
  const birthDate = c.birthDate ? normalise('birthDate', () => criteriaDate(c.birthDate!, input.dateOrder)) : undefined;
  const email = c.email ? normalise('email', () => normaliseEmail(c.email!)) : undefined;
  const phone = c.phone ? normalise('phone', () => normalisePhone(c.phone!, c.country)) : undefined;
  const postcode = c.postcode ? normalise('postcode', () => normalisePostcode(c.postcode!, c.country)) : undefined;
  if (errors.length) throw new AppError('validation_failed', 'Some criteria cannot be read.', { errors });
  const full = c.full ?? (!c.given && !c.family && nameWords.length ? nameWords.join(' ') : undefined);
  const address = { ...(c.street ? { lines: [c.street] } : {}), ...(c.locality ? { locality: c.locality } : {}), ...(postcode ? { postcode } : {}), ...(c.country ? { country: c.country } : {}) };
  return {
    standardVersion: STANDARD_VERSION,
    source: { recordId: 'query' },
    name: { ...(c.given ? { given: c.given } : {}), ...(c.family ? { family: c.family } : {}), ...(full ? { full } : {}) },
    ...(birthDate ? { birthDate } : {}),
    ...(c.gender ? { gender: c.gender } : {}),
    ...(email ? { emails: [{ address: email }] } : {}),
    ...(phone ? { phones: [{ number: phone }] } : {}),
    ...(Object.keys(address).length ? { addresses: [address] } : {}),
    ...(c.identifier ? { identifiers: [{ scheme: c.identifier.scheme, value: c.identifier.value.toUpperCase().replace(/[\s-]/g, '') }] } : {}),
  } as CustomerRecord;
}

type Disclosed = Map<string, Record<string, unknown>>;

/**
 * Varying the criteria around one record (a birth date guessed digit by digit) is an oracle even
 * without scores: each token may bring at most MATCH_PROBE_BUDGET distinct criteria to any one
 * record it finds. Past that the query is refused (its probe not counted: asking again what was
 * already asked reveals nothing new), and the refusal audited. The count, the query's audit events
 * and the disclosure of what was found are one statement (recordMatchProbes): one commit, not two (a
 * second commit cost every match 2.3 ms on the server), no BEGIN or COMMIT of its own, and nothing
 * read for a refused query.
 */
function spendProbeBudget(ctx: ServiceContext, grant: ConsentGrant, probe: CustomerRecord, q: string | undefined, results: { datasetId: string; sourceId: string }[]): (db: Queryable, events: AuditEventInput[]) => Promise<Disclosed> {
  const secrets = secretsFor(ctx.config);
  const criteriaKey = createHash('sha256').update(JSON.stringify([probe, q ?? null])).digest('base64url');
  const recordKeys = results.map((r) => secrets.pseudonym('probe', grant.grantorId, r.datasetId, r.sourceId));
  const budget = ctx.config.MATCH_PROBE_BUDGET;
  const disclose = grant.actions.includes('disclose') ? (first: number) => disclosedMatchesSql(grant, results, first) : undefined;
  return async (db, events) => {
    const { most, read } = await recordMatchProbes<Parameters<typeof disclosedByMatch>[0]>(db, { grant, criteriaKey, recordKeys, budget }, events, disclose);
    if (most <= budget) return disclosedByMatch(read ?? []);
    throw new AuditedRefusal(
      'too_many_requests',
      `This consent token has already brought ${budget} different sets of criteria to a record this query finds; ask the grantor for disclosure instead of probing.`,
      {
        action: 'match.refuse',
        targetType: 'consent',
        targetId: grant.jti,
        partnerId: grant.grantorId,
        outcome: 'denied',
        details: { jti: grant.jti, grantee: grant.granteeId, purpose: grant.purpose, reason: 'probe_budget_exhausted', budget },
      },
      { reason: 'probe_budget_exhausted' },
    );
  };
}

/** How common names are (term frequencies), from the planner's statistics; refreshed each minute. */
let nameStatistics: { at: number; statistics: Awaited<ReturnType<typeof selectNameStatistics>> } | undefined;

/**
 * "Which of the grantor's customers is this?": candidates by the blocking rules in SQL within the
 * grant's scope, scored with the Fellegi-Sunter model, graded, explained, cut down to the granted
 * fields, at most the token's max_results and no weaker than its min_grade.
 */
export async function matchCustomer({ ctx, token, input }: { ctx: ServiceContext; token: string | undefined; input: z.input<typeof matchInput> }): Promise<{ results: MatchResult[]; candidates: number }> {
  const callerId = requirePartner(ctx);
  const request = matchInput.parse(input);
  // Criteria are read before the token is used, so a bad criterion is a 400 that consumed nothing.
  const probe = probeRecord(request);
  return withConsent(ctx, { token, callerId, purpose: request.purpose, action: 'match' }, (grant) => findMatches(ctx, grant, request, probe));
}

async function findMatches(
  ctx: ServiceContext,
  grant: ConsentGrant,
  request: z.infer<typeof matchInput>,
  probe: CustomerRecord,
): Promise<{ result: MatchAnswer; event: AuditFact; commit?: (db: Queryable, events: AuditEventInput[]) => Promise<MatchAnswer> }> {
  const callerId = grant.granteeId;
  const keys = matchKeys(probe);
  const comparable = prepare(probe);

  // Each candidate is scored by the model its dataset names (the grantor's choice); candidates are
  // found by the rules of every model the searched datasets name, the shipped one's among them.
  const { modelFor, models } = await modelsForDatasets(ctx.db, grant.grantorId, grant.datasets, { recent: true });
  // A rule keeps at least as many candidates as the query may be answered with.
  const candidates = await selectProbeCandidates(ctx.db, grant, keys, mergeBlocking(models.map((m) => m.blocking)), Math.min(request.limit, grant.maxResults));
  if (!nameStatistics || Date.now() - nameStatistics.at > 60_000) nameStatistics = { at: Date.now(), statistics: await selectNameStatistics(ctx.db) };
  const { statistics } = nameStatistics;
  const tf = (comparison: string, value: string) => {
    const names = statistics[comparison as 'given_name' | 'family_name'];
    return names ? (names.common.get(value) ?? (names.other || undefined)) : undefined;
  };

  // The token's min_grade is the weakest allowed; a request may only ask for stronger.
  const weakest = Math.min(gradeRank[grant.minGrade], gradeRank[request.minGrade ?? grant.minGrade]);
  const disclose = grant.actions.includes('disclose');
  let results: (MatchResult & { probability: number; matchWeight: number; explanation: FieldExplanation[] })[] = [];
  for (const candidate of candidates) {
    const { model, name } = modelFor(candidate.datasetId);
    const score = scorePair(model, comparable, prepare(candidate.record), { tf, explain: true });
    if (!score.grade || gradeRank[score.grade] > weakest) continue;
    results.push({
      datasetId: candidate.datasetId,
      sourceId: candidate.sourceId,
      model: name,
      probability: Math.round(score.probability * 1e6) / 1e6,
      matchWeight: score.matchWeight,
      grade: score.grade,
      explanation: score.explanation,
    });
  }
  // Equal weights in a stable order, not the order the database found them in.
  results.sort((a, b) => b.matchWeight - a.matchWeight || compareIds(a.datasetId, b.datasetId) || compareIds(a.sourceId, b.sourceId));
  if (request.q) {
    // Free text ranks what was retrieved, over the fields the model compared (never more than it saw).
    const documents = candidates.map((c) => ({
      key: `${c.datasetId}/${c.sourceId}`,
      text: [c.record.name?.full, c.record.name?.given, c.record.name?.family, c.record.birthDate?.slice(0, 4), c.record.addresses?.[0]?.locality].filter(Boolean).join(' '),
    }));
    const fuse = new Fuse(documents, { keys: ['text'], includeScore: true, ignoreLocation: true, threshold: 0.6, useExtendedSearch: false });
    const scores = new Map<string, number>();
    for (const word of request.q.split(/\s+/)) {
      for (const hit of fuse.search(word)) scores.set(hit.item.key, (scores.get(hit.item.key) ?? 0) + (1 - (hit.score ?? 1)));
    }
    const words = request.q.split(/\s+/).length;
    results = results.map((r) => ({ ...r, textScore: Math.round((1 - (scores.get(`${r.datasetId}/${r.sourceId}`) ?? 0) / words) * 1000) / 1000 }));
    results.sort((a, b) => a.textScore! - b.textScore! || b.matchWeight - a.matchWeight);
  }
  results = results.slice(0, Math.min(request.limit, grant.maxResults));
  const answers: MatchResult[] = results.map(({ probability, matchWeight, explanation, ...rest }) => ({
    ...rest,
    ...(grant.scores ? { probability, matchWeight } : {}),
    explanation: discloseExplanation(explanation, grant.fields, grant.scores),
  }));
  const answer = (disclosed: Disclosed): MatchAnswer => ({
    results: disclose ? answers.map((r) => ({ ...r, record: disclosed.get(`${r.datasetId}/${r.sourceId}`) ?? {} })) : answers,
    // The number of candidates compared is derived from the data too: only with scores.
    candidates: grant.scores ? candidates.length : answers.length,
  });
  // Found records are counted against the probe budget, and disclosed, by the write that records the query.
  const spend = results.length ? spendProbeBudget(ctx, grant, probe, request.q, results) : undefined;

  const secrets = secretsFor(ctx.config);
  // The query changes no data: its event goes with the verification's, and the probe count with both, in one statement.
  const event: AuditFact = {
    action: 'match.query',
    targetType: 'consent',
    targetId: grant.jti,
    partnerId: grant.grantorId,
    details: {
      jti: grant.jti,
      grantee: callerId,
      purpose: grant.purpose,
      criteria: Object.keys(request.criteria).concat(request.q ? ['q'] : []),
      candidates: candidates.length,
      // Records by keyed pseudonym: the log holds no source id.
      results: results.map((r) => ({ datasetId: r.datasetId, record: recordPseudonym(secrets, grant.grantorId, r.datasetId, r.sourceId), grade: r.grade, model: r.model })),
      disclosedFields: disclose ? grant.fields : [],
    },
  };
  return { result: answer(new Map()), event, ...(spend ? { commit: async (db, events) => answer(await spend(db, events)) } : {}) };
}
