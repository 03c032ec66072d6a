/**
 * npm run bench:index-cost [-- rows]: what storing a row costs the PostgreSQL server itself, with no
 * client at all: generated rows shaped like customer_records go in by INSERT … SELECT, into the table
 * with its primary key and each of the matcher's indexes alone, then with all of them, then into a
 * bare table whose indexes are built afterwards. Runs in a scratch database on BENCH_DATABASE_URL.
 */
import { connectPostgres } from '../src/store/postgres.js';
import { benchServerUrl } from './engines.js';

const rows = Number(process.argv[2] ?? 300_000);
const current = 'WHERE valid_to IS NULL';
/** The indexes of customer_records (migrations 002, 004, 006), on the scratch table t. */
const indexes: Record<string, string> = {
  'current version (unique)': `CREATE UNIQUE INDEX ON t (partner_id, dataset_id, source_id) ${current}`,
  'full name trigrams (GIN)': `CREATE INDEX ON t USING gin (full_name_key gin_trgm_ops) ${current}`,
  'family phonetic + birth year': `CREATE INDEX ON t (partner_id, family_phonetic, birth_year) ${current}`,
  'birth date': `CREATE INDEX ON t (partner_id, birth_date) ${current}`,
  postcode: `CREATE INDEX ON t (partner_id, postcode_key) ${current}`,
  'emails (GIN)': `CREATE INDEX ON t USING gin (email_keys) ${current}`,
  'phones (GIN)': `CREATE INDEX ON t USING gin (phone_keys) ${current}`,
  'identifiers (GIN)': `CREATE INDEX ON t USING gin (identifier_keys) ${current}`,
  'given phonetic + family phonetic': `CREATE INDEX ON t (partner_id, given_phonetic, family_phonetic) ${current}`,
};

const name = `cx_bench_index_${process.pid}`;
const admin = connectPostgres(benchServerUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(benchServerUrl);
url.pathname = `/${name}`;
const sql = connectPostgres(url.toString(), { max: 1, onnotice: () => {} });
try {
  await sql.unsafe('CREATE EXTENSION pg_trgm');
  await sql.unsafe(`CREATE TABLE source AS SELECT
      '00000000-0000-4000-8000-000000000001'::uuid AS partner_id, '00000000-0000-4000-8000-000000000002'::uuid AS dataset_id,
      'c' || i AS source_id, 1 AS version, now() AS valid_from, NULL::timestamptz AS valid_to,
      jsonb_build_object('standardVersion', '1.0.0', 'source', jsonb_build_object('recordId', 'c' || i),
        'name', jsonb_build_object('given', 'Given' || (i * 7 % 5000), 'family', 'Family' || (i * 13 % 20000)),
        'emails', jsonb_build_array(jsonb_build_object('address', 'person' || i || '@example.com')),
        'phones', jsonb_build_array(jsonb_build_object('number', '+1415' || (2000000 + i))),
        'addresses', jsonb_build_array(jsonb_build_object('postcode', (10000 + i * 31 % 80000)::text, 'country', 'US'))) AS record,
      'given' || (i * 7 % 5000) || ' family' || (i * 13 % 20000) AS full_name_key, 'given' || (i * 7 % 5000) AS given_name_key,
      'family' || (i * 13 % 20000) AS family_name_key, 'FML' || (i * 13 % 2000) AS family_phonetic,
      '1940-01-01'::date + (i * 37 % 20000) AS birth_date, (1940 + i % 60)::smallint AS birth_year,
      (10000 + i * 31 % 80000)::text AS postcode_key, ARRAY['person' || i || '@example.com'] AS email_keys,
      ARRAY['+1415' || (2000000 + i)] AS phone_keys, NULL::text[] AS identifier_keys, 'JN' || (i % 500) AS given_phonetic
    FROM generate_series(1, ${rows}) AS i`);
  const timed = async (statement: string) => {
    const started = performance.now();
    await sql.unsafe(statement);
    return performance.now() - started;
  };
  const insertInto = async (create: string[]) => {
    await sql.unsafe('DROP TABLE IF EXISTS t');
    await sql.unsafe('CREATE TABLE t (LIKE source)');
    await sql.unsafe('ALTER TABLE t ADD PRIMARY KEY (partner_id, dataset_id, source_id, version)');
    for (const statement of create) await sql.unsafe(statement);
    await sql.unsafe('CHECKPOINT');
    return timed('INSERT INTO t SELECT * FROM source');
  };
  const perRow = (ms: number) => `${((ms * 1000) / rows).toFixed(1)} µs/row`;
  console.log(`bench:index-cost: ${rows.toLocaleString('en')} rows by INSERT … SELECT on the server, primary key always present`);
  console.log(`  no other index: ${perRow(await insertInto([]))}`);
  for (const [label, statement] of Object.entries(indexes)) console.log(`  + ${label}: ${perRow(await insertInto([statement]))}`);
  const all = await insertInto(Object.values(indexes));
  console.log(`  all of them: ${perRow(all)} (${Math.round(rows / (all / 1000)).toLocaleString('en')} rows/s)`);
  const load = await insertInto([]);
  let build = 0;
  for (const statement of Object.values(indexes)) build += await timed(statement);
  console.log(`  bare table, indexes built after: load ${perRow(load)} + build ${perRow(build)}`);
} finally {
  await sql.end();
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
  await admin.end();
}
