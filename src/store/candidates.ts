/**
 * Candidate retrieval (blocking) for the matcher: a union of index-backed rules, so that recall
 * stays high while few pairs are compared. A single query probes a grantor's records with the
 * probe's keys; batch linkage joins two datasets on the same rules. Another partner's records are
 * only reached under a verified grant, whose scope (datasets, each record's consent) applies in SQL.
 */
import { randomBytes } from 'node:crypto';
import { assertVerifiedGrant, type ConsentGrant } from '../core/grant.js';
import { defaultBlocking, isArrayRule, planRules, RECALL_SAMPLE, recallFields, sidesOfKey, type BlockingKey, type BlockingReport, type BlockingRule, type BlockingSettings, type PlannedRule } from '../match/blocking.js';
import type { MatchKeys } from '../match/features.js';
import { distinctPairsOf, type PairList } from '../match/pairs.js';
import type { CustomerRecord } from '../standard/customer.js';
import { indexServes, keysUsed, keySql, pairCondition, probeCondition, sideColumn } from './blocking-sql.js';
import { onOneConnection, type Queryable } from './database.js';
import { visibleDataset } from './visible.js';

/** The rules of a blocking set a single query runs (an index serves them), and those only batch linkage runs. */
export function queryRules(blocking: BlockingSettings): { used: string[]; batchOnly: string[] } {
  return { used: blocking.rules.filter(indexServes).map((r) => r.name), batchOnly: blocking.rules.filter((r) => !indexServes(r)).map((r) => r.name) };
}

/**
 * The SQL of a single query's rules, numbered parameters from $first; `only` runs the named rules
 * even without an index (for the EXPLAIN test). A rule keeps `perRule` records (at least the
 * settings' perQuery): when it finds more, those whose names are most alike the probe's (trigram
 * similarity of the full name), of at most perQueryRanked it finds. A crowded block (a birth date
 * among a million records is shared by about fifty) then gives its likeliest few, not an arbitrary
 * fifty to fetch, parse and score.
 */
export function probeSql(keys: MatchKeys, scopeWhere: string, first: number, blocking: BlockingSettings, only?: string[], perRule = blocking.perQuery): { sql: string; params: unknown[]; rules: string[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  const kept = Math.max(perRule, blocking.perQuery);
  const ranked = keys.fullNameKey !== null && blocking.perQueryRanked > kept;
  let name: string | undefined;
  const ruleSql: string[] = [];
  const rules: string[] = [];
  for (const rule of blocking.rules) {
    if (only ? !only.includes(rule.name) : !indexServes(rule)) continue;
    const mark = params.length;
    const condition = probeCondition(rule, keys, param);
    if (condition === undefined) {
      params.length = mark;
      continue;
    }
    rules.push(rule.name);
    const found = (columns: string) => `SELECT r.dataset_id, r.source_id, r.record${columns} FROM customer_records r WHERE ${scopeWhere} AND ${condition}`;
    if (!ranked) {
      ruleSql.push(`(${found('')} LIMIT ${kept})`);
      continue;
    }
    name ??= param(keys.fullNameKey);
    ruleSql.push(
      `(SELECT b.dataset_id, b.source_id, b.record FROM (${found(', r.full_name_key')} LIMIT ${blocking.perQueryRanked}) AS b
        ORDER BY similarity(b.full_name_key, ${name}) DESC NULLS LAST, b.dataset_id, b.source_id COLLATE "C" LIMIT ${kept})`,
    );
  }
  return { sql: ruleSql.join('\nUNION ALL\n'), params, rules };
}

export interface Candidate {
  datasetId: string;
  sourceId: string;
  /** The whole record, for scoring inside the exchange only; never returned to the grantee. */
  record: CustomerRecord;
}

/**
 * Candidates for one probe among the grantor's records the grant reaches, at most `perRule` per
 * rule (at least the settings' perQuery; see probeSql). The grant's scope and each record's consent
 * are conditions of every rule.
 */
export async function selectProbeCandidates(db: Queryable, grant: ConsentGrant, keys: MatchKeys, blocking: BlockingSettings = defaultBlocking(), perRule = blocking.perQuery): Promise<Candidate[]> {
  assertVerifiedGrant(grant, 'match');
  const scope = `r.partner_id = $1 AND r.valid_to IS NULL AND r.record IS NOT NULL AND ${visibleDataset('r', '$1')}
    AND ($2::uuid[] IS NULL OR r.dataset_id = ANY($2::uuid[])) AND cx_record_permits(r.record, $3, $4)`;
  const { sql, params } = probeSql(keys, scope, 5, blocking, undefined, perRule);
  if (!sql) return [];
  const rows = await db.query<{ dataset_id: string; source_id: string; record: CustomerRecord }>(sql, [grant.grantorId, grant.datasets, grant.purpose, grant.optIn, ...params]);
  // A record several rules found comes once.
  const candidates = new Map<string, Candidate>();
  for (const row of rows) {
    const key = `${row.dataset_id}/${row.source_id}`;
    if (!candidates.has(key)) candidates.set(key, { datasetId: row.dataset_id, sourceId: row.source_id, record: row.record });
  }
  return [...candidates.values()];
}

/**
 * What may leave of the matched records, as SQL for a statement that reads it beside a write
 * (recordMatchProbes): one jsonb array of { datasetId, sourceId, disclosed }, each record cut down to
 * the grant's fields, within the same scope as the match; parameters numbered from $first. Only for
 * a grant that includes `disclose`. The arrays are read through subqueries for the reason
 * recordMatchProbes gives.
 */
export function disclosedMatchesSql(grant: ConsentGrant, matches: { datasetId: string; sourceId: string }[], first: number): { sql: string; params: unknown[] } {
  assertVerifiedGrant(grant, 'match');
  if (!grant.actions.includes('disclose')) throw new Error('disclosure under a grant without disclose');
  const $ = (n: number) => `$${first + n}`;
  return {
    sql: `SELECT coalesce(jsonb_agg(jsonb_build_object('datasetId', r.dataset_id, 'sourceId', r.source_id, 'disclosed', cx_disclose(r.record, ${$(4)}::text[]))), '[]'::jsonb)
     FROM customer_records r JOIN unnest((SELECT ${$(5)}::uuid[]), (SELECT ${$(6)}::text[])) AS m(dataset_id, source_id) ON r.dataset_id = m.dataset_id AND r.source_id = m.source_id
     WHERE r.partner_id = ${$(0)} AND r.valid_to IS NULL AND r.record IS NOT NULL AND ${visibleDataset('r', $(0))}
       AND (${$(1)}::uuid[] IS NULL OR r.dataset_id = ANY(${$(1)}::uuid[])) AND cx_record_permits(r.record, ${$(2)}, ${$(3)})`,
    params: [grant.grantorId, grant.datasets, grant.purpose, grant.optIn, grant.fields, matches.map((m) => m.datasetId), matches.map((m) => m.sourceId)],
  };
}

/** Reads disclosedMatchesSql's answer: the cut records by `datasetId/sourceId`. */
export function disclosedByMatch(rows: { datasetId: string; sourceId: string; disclosed: Record<string, unknown> }[]): Map<string, Record<string, unknown>> {
  return new Map(rows.map((row) => [`${row.datasetId}/${row.sourceId}`, row.disclosed]));
}

export interface DatasetScope {
  partnerId: string;
  datasetId: string;
  /** Needed when the dataset is another partner's than the caller's: a grant verified for `match`. */
  grant?: ConsentGrant;
}

function sideSql(scope: DatasetScope, keys: BlockingKey[], partner: string, dataset: string, consent: string, within: boolean): string {
  const grantConditions = scope.grant ? ` AND cx_record_permits(record, ${consent}::text, ${scope.grant.optIn})` : '';
  // i: the record's position among its side's (pairs travel as positions). Within one dataset in
  // source id order, so that each pair comes once with the lower id left; between two, in the
  // order read (sorting the rows cost 0.2 s a side of 100,000).
  return `SELECT (row_number() OVER (${within ? 'ORDER BY source_id COLLATE "C"' : ''}) - 1)::int AS i, source_id, ${keys.map((key) => `${keySql[key].expression} AS ${key}`).join(', ')}
    FROM customer_records WHERE partner_id = ${partner} AND dataset_id = ${dataset} AND valid_to IS NULL AND record IS NOT NULL
      AND ${visibleDataset('', partner)}${grantConditions}`;
}

/** The keys a training pass may block on, with the fields whose comparisons they fix. */
export const trainingPassKeys = { full_name: ['given_name', 'family_name'], birth_date: ['birth_date'] } as const;

export interface CandidatePairs {
  pairs: PairList;
  blocking: BlockingReport;
}

/**
 * How many pairs each rule would compare on its equality keys: the sum over its blocks of left
 * count × right count; within one dataset, n(n − 1)/2 a block (each record with itself left out,
 * each pair once). A rule with none is one block.
 */
function ruleSizesSql(rules: { name: string; on: BlockingRule['on'] }[], within: boolean): string {
  return rules
    .map((rule) => {
      const pairs = rule.on.map(sidesOfKey);
      const names = pairs.map((_, i) => `k${i}`);
      const blocks = (side: 'l' | 'r') =>
        pairs.length
          ? `SELECT ${names.join(', ')}, count(*)::float8 AS n FROM (SELECT ${pairs.map((pair, i) => `${sideColumn(side, pair[side === 'l' ? 0 : 1])} AS k${i}`).join(', ')} FROM ${side}) keys
             WHERE ${names.map((k) => `${k} IS NOT NULL`).join(' AND ')} GROUP BY ${names.join(', ')}`
          : `SELECT count(*)::float8 AS n FROM ${side}`;
      return `(SELECT coalesce(sum(${within ? '(a.n * b.n - a.n) / 2' : 'a.n * b.n'}), 0)::float8 FROM (${blocks('l')}) a JOIN (${blocks('r')}) b
         ON ${pairs.length ? names.map((k) => `a.${k} = b.${k}`).join(' AND ') : 'true'}) AS "${rule.name}"`;
    })
    .join(',\n');
}

/** The rules to run for these sides (planRules), each round of sizes measured in one query. */
async function planSqlRules({ db, sides, params, within }: Linkage, blocking: BlockingSettings): Promise<{ kept: PlannedRule[]; report: BlockingReport['rules'] }> {
  const [counts] = await db.query<{ left: number; right: number }>(`${sides} SELECT (SELECT count(*) FROM l)::float8 AS "left", (SELECT count(*) FROM r)::float8 AS "right"`, params);
  const budget = Math.max(blocking.minPairs, blocking.pairsPerRecord * (counts!.left + (within ? 0 : counts!.right)));
  return planRules(blocking, budget, async (rules) => {
    if (!rules.length) return [];
    const [sizes] = await db.query<Record<string, number>>(`${sides} SELECT ${ruleSizesSql(rules.map((rule, i) => ({ name: `v${i}`, on: rule.on })), within)}`, params);
    return rules.map((_, i) => sizes![`v${i}`]!);
  });
}

/** The condition under which any kept rule (or an array rule) brings a pair together. */
function coveredBy(kept: PlannedRule[], blocking: BlockingSettings): string {
  const arrays = blocking.rules.filter(isArrayRule).map((rule) => {
    const [left, right] = sidesOfKey(rule.on[0]!);
    return `${sideColumn('l', left)} && ${sideColumn('r', right)}`;
  });
  return [...kept.map((rule) => `(${pairCondition(rule)})`), ...arrays].join(' OR ') || 'false';
}

/**
 * Of the pairs that agree on each recall field, how many the kept rules (or the array keys) bring
 * together, in one statement; above RECALL_SAMPLE agreeing pairs the left side is sampled by a hash
 * of its source id (repeatable).
 */
async function estimateRecall({ db, sides, params, within, order }: Linkage, kept: PlannedRule[], blocking: BlockingSettings): Promise<BlockingReport['recall']> {
  const covered = coveredBy(kept, blocking);
  const samples = recallFields.map(
    (field) => `(SELECT ARRAY[count(*), count(*) FILTER (WHERE ${covered})]::float8[]
       FROM (SELECT * FROM l WHERE ('x' || left(md5(l.source_id), 8))::bit(32)::int8 < least(1, ${RECALL_SAMPLE} / greatest(s."${field}", 1)) * 4294967296) l
       JOIN r ON l.${field} = r.${field}${order}) AS "${field}_sample"`,
  );
  const [row] = await db.query<Record<string, number | number[]>>(
    `${sides}, s AS MATERIALIZED (SELECT ${ruleSizesSql(recallFields.map((field) => ({ name: field, on: [field] })), within)})
     SELECT s.*, ${samples.join(',\n')} FROM s`,
    params,
  );
  const recall: BlockingReport['recall'] = [];
  for (const field of recallFields) {
    const pairs = row![field] as number;
    if (pairs === 0) continue;
    const [sampled, compared] = row![`${field}_sample`] as number[];
    recall.push({ field, agreeing: Math.round(pairs), compared: sampled ? Number((compared! / sampled).toFixed(4)) : 1 });
  }
  return recall;
}

/**
 * The linkage connection's settings while it blocks (a pool's connection, so they are reset after).
 * Measured on 100k × 100k's pair join, a UNION of twenty joins of the two sides:
 * - jit: the planner prices these joins of whole tables at billions of rows and compiled them,
 *   which alone took 6 of the join's 13.5 s, for no faster execution.
 * - enable_mergejoin: it chose merge joins for rules of two keys, sorting both sides by text under
 *   the database's collation each time (0.17 s a side, a rule); hash joins took the join from
 *   6.7–8.2 s to 3.6–4.9 s.
 * - default_statistics_target: ANALYZE of the sides sampled 30,000 rows a side (1 s); 3,000 are
 *   enough to choose between these plans.
 */
const LINKAGE_SETTINGS = { jit: 'off', enable_mergejoin: 'off', default_statistics_target: '10' };

/** A linkage's two sides, kept for its statements as temporary tables and read as `l` and `r`. */
interface Linkage {
  db: Queryable;
  within: boolean;
  sides: string;
  params: unknown[];
  /** Within one dataset each pair once, and no record with itself. */
  order: string;
}

/**
 * Runs `fn` on both sides of a linkage, after checking that the grant covers the right-hand one.
 * Each side (the keys `blocking` uses, computed from the records) is built once, as a temporary
 * table on one connection, and analysed: sizing the rules, refining them, joining the pairs and
 * estimating recall read it instead of rebuilding it from customer_records each time (which cost
 * 100k × 100k linkage about 9 s). Dropped however `fn` ends.
 */
async function withLinkage<T>(db: Queryable, left: DatasetScope, right: DatasetScope, blocking: BlockingSettings, fn: (linkage: Linkage) => Promise<T>): Promise<T> {
  if (right.partnerId !== left.partnerId || right.grant) {
    if (!right.grant) throw new Error('cross-partner linkage without a verified consent grant');
    assertVerifiedGrant(right.grant, 'match');
    if (right.grant.grantorId !== right.partnerId || (right.grant.datasets && !right.grant.datasets.includes(right.datasetId))) {
      throw new Error('the grant does not cover the right-hand dataset');
    }
  }
  const within = left.partnerId === right.partnerId && left.datasetId === right.datasetId;
  const keys = keysUsed(blocking.rules, [...blocking.refineWith, ...recallFields, ...(Object.keys(trainingPassKeys) as BlockingKey[])]);
  const side = (scope: DatasetScope) => ({ sql: sideSql(scope, keys, '$1', '$2', '$3', within), params: [scope.partnerId, scope.datasetId, ...(scope.grant ? [scope.grant.purpose] : [])] });
  const id = randomBytes(6).toString('hex');
  const [l, r] = [`cx_linkage_l_${id}`, within ? `cx_linkage_l_${id}` : `cx_linkage_r_${id}`];
  const tables = within ? l : `${l}, ${r}`;
  return onOneConnection(db, async (connection) => {
    try {
      for (const [name, value] of Object.entries(LINKAGE_SETTINGS)) await connection.exec(`SET ${name} = ${value}`);
      for (const [table, scope] of within ? ([[l, left]] as const) : ([[l, left], [r, right]] as const)) {
        const { sql, params } = side(scope);
        await connection.query(`CREATE TEMPORARY TABLE ${table} AS ${sql}`, params);
      }
      await connection.exec(`ANALYZE ${tables}`);
      // Not materialized: the planner then knows the tables' sizes and values, as it does not a CTE's.
      const sides = `WITH l AS NOT MATERIALIZED (SELECT * FROM ${l}), r AS NOT MATERIALIZED (SELECT * FROM ${r})`;
      return await fn({ db: connection, within, params: [], sides, order: within ? ' AND l.i < r.i' : '' });
    } finally {
      // In a transaction that failed the drop fails too, and the rollback removes the tables.
      await connection.exec(`DROP TABLE IF EXISTS ${tables}`).catch(() => {});
      for (const name of Object.keys(LINKAGE_SETTINGS)) await connection.exec(`RESET ${name}`).catch(() => {});
    }
  });
}

/**
 * A training pass leaves out values more than this many records share: a placeholder birth date
 * (1 January for an unknown day) or a very common name brings together mostly strangers, and
 * quadratically many of them, so that EM took the pairs sharing a family name besides for its
 * matches. Foreigners, trained with birth-date frequencies: given names' m for `different` 0.40
 * without a limit, 0.26 with 20 (about 0.14 true); clustered F1 0.885 → 0.905 (with 5: 0.908,
 * 10: 0.904, 50: 0.895). Duplicates of one person rarely number 20.
 */
const TRAINING_BLOCK_LIMIT = 20;

/**
 * Pairs that agree on one key, for a training pass blocked on it: at most about `limit`, the left
 * side sampled (seeded, so a run can be repeated) when there are more.
 */
export async function selectPairsAgreeingOn(db: Queryable, left: DatasetScope, right: DatasetScope, key: keyof typeof trainingPassKeys, limit = 300_000): Promise<{ leftId: string; rightId: string }[]> {
  if (!(key in trainingPassKeys)) throw new Error(`not a training key: ${key}`);
  return withLinkage(db, left, right, defaultBlocking(), async ({ db, within, params, sides, order }) => {
    const [sizes] = await db.query<Record<string, number>>(`${sides} SELECT ${ruleSizesSql([{ name: key, on: [key] }], within)}`, params);
    const share = Math.min(1, limit / Math.max(sizes![key]!, 1));
    const sampled = share < 1 ? `(SELECT * FROM l WHERE ('x' || left(md5(source_id), 8))::bit(32)::int8 < ${Math.floor(share * 2 ** 32)}) l` : 'l';
    const grouped = await db.query<{ leftId: string; rightIds: string[] }>(
      `${sides}, small AS (SELECT ${key} FROM r WHERE ${key} IS NOT NULL GROUP BY ${key} HAVING count(*) <= ${TRAINING_BLOCK_LIMIT})
       SELECT l.source_id AS "leftId", array_agg(r.source_id) AS "rightIds" FROM ${sampled} JOIN r ON l.${key} = r.${key}${order}
       WHERE l.${key} IN (SELECT ${key} FROM small) GROUP BY l.source_id`,
      params,
    );
    return grouped.flatMap(({ leftId, rightIds }) => rightIds.map((rightId) => ({ leftId, rightId })));
  });
}

/**
 * Candidate pairs a statement asks for, at most (as the rules sized them; array rules are not
 * sized): 20M pairs are 213 MB of base64 text, well within its 1 GB.
 */
const PAIRS_PER_STATEMENT = 20_000_000;

/** Candidate pairs of a linkage by a model's blocking rules, with what blocking did. */
export async function selectCandidatePairs(
  db: Queryable,
  left: DatasetScope,
  right: DatasetScope,
  options: { blocking?: BlockingSettings; estimateRecall?: boolean; pairsPerStatement?: number } = {},
): Promise<CandidatePairs> {
  const { result: pairs, blocking } = await withCandidatePairs(db, left, right, options, async (pairs) => pairs);
  return { pairs, blocking };
}

/**
 * A linkage's candidate pairs handed to `use` as soon as they are joined, while the recall
 * estimate runs on the linkage's connection: on a server the database estimates while the
 * exchange scores (100k × 100k: 2.8 s of SQL off the run's length). `use`'s answer comes back with
 * what blocking did, once both have ended.
 */
export async function withCandidatePairs<T>(
  db: Queryable,
  left: DatasetScope,
  right: DatasetScope,
  options: { blocking?: BlockingSettings; estimateRecall?: boolean; pairsPerStatement?: number },
  use: (pairs: PairList) => Promise<T>,
): Promise<{ result: T; blocking: BlockingReport }> {
  const blocking = options.blocking ?? defaultBlocking();
  return withLinkage(db, left, right, blocking, async (linkage) => {
    const { db, params, sides, order } = linkage;
    const { kept, report } = await planSqlRules(linkage, blocking);
    const [ids] = await db.query<{ left: string[]; right: string[] }>(`${sides} SELECT (SELECT array_agg(source_id ORDER BY i) FROM l) AS left, (SELECT array_agg(source_id ORDER BY i) FROM r) AS right`, params);
    // As positions (integers join and travel cheaper than ids), in a bytea of int4 couples: a row per
    // pair cost a JS object each (PGlite: 2M pairs took 18 s as rows). Repeats are left in (UNION
    // ALL) and removed by distinctPairsOf. A statement's text is at most 1 GB, so a linkage whose
    // rules size more than pairsPerStatement pairs asks for them in ranges of its left records.
    const sized = report.reduce((sum, rule) => sum + (rule.leftOut ? 0 : rule.pairs), 0);
    const statements = Math.max(1, Math.ceil(sized / (options.pairsPerStatement ?? PAIRS_PER_STATEMENT)));
    const lefts = ids!.left?.length ?? 0;
    const sent: Uint8Array[] = [];
    for (let part = 0; part < statements; part += 1) {
      const range = statements === 1 ? '' : ` AND l.i >= ${Math.floor((lefts * part) / statements)} AND l.i < ${Math.floor((lefts * (part + 1)) / statements)}`;
      const joins = [
        ...kept.map((rule) => `SELECT l.i AS "left", r.i AS "right" FROM l JOIN r ON ${pairCondition(rule)}${order}${range}`),
        ...blocking.rules.filter(isArrayRule).map((rule) => {
          const [leftKey, rightKey] = sidesOfKey(rule.on[0]!);
          return `SELECT l.i, r.i FROM (SELECT i, unnest(${leftKey}) AS k FROM l) l JOIN (SELECT i, unnest(${rightKey}) AS k FROM r) r ON l.k = r.k${order}${range}`;
        }),
      ];
      const [row] = await db.query<{ pairs: string | null }>(
        `${sides}\nSELECT encode(string_agg(int4send("left") || int4send("right"), ''::bytea), 'base64') AS pairs FROM (\n${joins.join('\nUNION ALL\n')}\n) pairs`,
        params,
      );
      sent.push(Buffer.from(row?.pairs ?? '', 'base64'));
    }
    const recall = options.estimateRecall === false ? Promise.resolve([]) : estimateRecall(linkage, kept, blocking);
    recall.catch(() => {});
    // The estimate goes out before the pairs are laid out, which holds this thread for a while.
    await new Promise((resolve) => setImmediate(resolve));
    const list = distinctPairsOf(sent.length === 1 ? sent[0]! : Buffer.concat(sent), ids!.left ?? [], ids!.right ?? []);
    // Both settle before the sides are dropped, whichever fails.
    const [used, estimated] = await Promise.allSettled([use(list), recall]);
    if (used.status === 'rejected') throw used.reason;
    if (estimated.status === 'rejected') throw estimated.reason;
    return { result: used.value, blocking: { rules: report, recall: estimated.value } };
  });
}

/** The current records of a dataset (own data, or another partner's under a grant's scope). */
export async function selectDatasetRecords(db: Queryable, scope: DatasetScope): Promise<{ sourceId: string; record: CustomerRecord }[]> {
  if (scope.grant) assertVerifiedGrant(scope.grant, 'match');
  const consent = scope.grant ? ` AND cx_record_permits(record, $3, ${scope.grant.optIn})` : '';
  return db.query(
    `SELECT source_id AS "sourceId", record FROM customer_records
     WHERE partner_id = $1 AND dataset_id = $2 AND valid_to IS NULL AND record IS NOT NULL AND ${visibleDataset('', '$1')}${consent}`,
    [scope.partnerId, scope.datasetId, ...(scope.grant ? [scope.grant.purpose] : [])],
  );
}

export interface NameStatistics {
  /** The most common values and the share of records each has. */
  common: Map<string, number>;
  /** The share of records of any other value. */
  other: number;
}

/**
 * How common names are, from the planner's statistics (ANALYZE runs after large uploads): the
 * most common values with their shares, and the average share of the rest. Free at query time.
 */
export async function selectNameStatistics(db: Queryable): Promise<Record<'given_name' | 'family_name', NameStatistics>> {
  const rows = await db.query<{ attname: string; values: string[] | null; freqs: number[] | null; nDistinct: number; nullFrac: number; tuples: number }>(
    `SELECT s.attname, s.most_common_vals::text::text[] AS values, s.most_common_freqs::float8[] AS freqs, s.n_distinct::float8 AS "nDistinct",
       s.null_frac::float8 AS "nullFrac", greatest(c.reltuples, 1)::float8 AS tuples
     FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
     WHERE s.tablename = 'customer_records' AND s.attname IN ('given_name_key', 'family_name_key')`,
  );
  const statistics = { given_name: { common: new Map(), other: 0 }, family_name: { common: new Map(), other: 0 } } as Record<'given_name' | 'family_name', NameStatistics>;
  for (const row of rows) {
    const values = row.values ?? [];
    const freqs = row.freqs ?? [];
    const distinct = row.nDistinct < 0 ? -row.nDistinct * row.tuples : row.nDistinct;
    const rest = Math.max(1 - row.nullFrac - freqs.reduce((sum, f) => sum + f, 0), 0);
    statistics[row.attname === 'given_name_key' ? 'given_name' : 'family_name'] = {
      common: new Map(values.map((value, i) => [value, freqs[i]!])),
      other: rest / Math.max(distinct - values.length, 1),
    };
  }
  return statistics;
}
