import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModel } from '../../src/match/model.js';
import { runCx, cliTimeout } from '../helpers/cli.js';
import { sharedData } from '../helpers/mapping.js';

/** The offline tools run on an embedded engine in a temporary directory, whatever the tests' engine. */
describe('cx dedupe, link, eval and model', cliTimeout, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-link-test-'));

  it('deduplicates FEBRL dataset1 and evaluates the pairs against the truth', async () => {
    const pairs = join(dir, 'pairs.csv');
    const dedupe = await runCx(['dedupe', `${sharedData}febrl/dataset1.csv`, '--mapping', 'febrl', '--out', pairs], {});
    expect(dedupe.code, dedupe.stderr).toBe(0);
    expect(dedupe.stderr).toMatch(/deduplicated 1000 records: \d+ candidate pairs compared, \d+ pairs/);
    expect(readFileSync(pairs, 'utf8').split('\n')[0]).toBe('left_id,right_id,probability,grade');
    const evaluated = await runCx(['eval', '--pairs', pairs, '--truth', `${sharedData}febrl/febrl1_true_pairs.csv`, '--curve'], {});
    const [, f1] = /F1 (\d\.\d+)/.exec(evaluated.stdout)!;
    expect(Number(f1)).toBeGreaterThanOrEqual(0.95);
    expect(evaluated.stdout).toMatch(/threshold 0\.99 +precision/);
  });

  it('links two files, one to one, with the source record ids', async () => {
    const left = await runCx(['link', `${sharedData}febrl/dataset1.csv`, `${sharedData}febrl/dataset1.csv`, '--mapping', 'febrl', '--one-to-one', '--threshold', '0.9'], {});
    expect(left.code, left.stderr).toBe(0);
    const rows = left.stdout.trim().split('\n').slice(1).map((line) => line.split(','));
    expect(rows.length).toBe(1000);
    // Each record's best link is itself, or a duplicate that ties with it on every compared field.
    const entity = (id: string) => id.split('-')[1];
    expect(rows.filter(([a, b]) => a === b).length).toBeGreaterThan(800);
    expect(rows.every(([a, b]) => entity(a!) === entity(b!))).toBe(true);
    // The two files share an id space: a pair of equal ids is a pair, and eval counts it.
    const pairsFile = join(dir, 'self-links.csv');
    writeFileSync(pairsFile, left.stdout);
    const truthFile = join(dir, 'self-truth.csv');
    writeFileSync(truthFile, `left,right\n${rows.map(([a]) => `${a},${a}`).join('\n')}\n`);
    const evaluated = await runCx(['eval', '--pairs', pairsFile, '--truth', truthFile, '--linkage', '--curve'], {});
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const [, recall] = /recall (\d\.\d+)/.exec(evaluated.stdout)!;
    expect(Number(recall)).toBeGreaterThan(0.8);
  });

  it('trains a model without labels and shows it', async () => {
    const out = join(dir, 'model.json');
    const trained = await runCx(['model', 'train', '--input', `splink-fake-1000=${sharedData}splink/fake_1000.csv`, '--out', out], {});
    expect(trained.code, trained.stderr).toBe(0);
    const model = parseModel(JSON.parse(readFileSync(out, 'utf8')));
    expect(model.comparisons.email!.exact!.m).toBeGreaterThan(model.comparisons.email!.exact!.u);
    const shown = await runCx(['model', 'show', out], {});
    expect(shown.stdout).toMatch(/^prior /);
    expect(shown.stdout).toMatch(/birth_date\n {2}exact +m/);
    expect(trained.stderr).toMatch(/^ {2}pass blocked on full_name: \d+ pairs, \d+ EM iterations\n {2}pass blocked on birth_date: \d+ pairs/);
  });

  // Each training spawns its own CLI: one a test, so that two on a busy machine do not share a timeout.
  it('trains on two files, a mapping each, and refuses a malformed --input in one line', async () => {
    const out = join(dir, 'linked-model.json');
    const linked = await runCx(['model', 'train', '--input', `febrl=${sharedData}febrl/dataset1.csv,febrl=${sharedData}febrl/dataset2.csv`, '--out', out], {});
    expect(linked.code, linked.stderr).toBe(0);
    expect(Object.keys(parseModel(JSON.parse(readFileSync(out, 'utf8'))).trainedOn!)).toContain(`${sharedData}febrl/dataset1.csv × ${sharedData}febrl/dataset2.csv`);
    const malformed = await runCx(['model', 'train', '--input', 'febrl'], {});
    expect([malformed.code, malformed.stderr]).toEqual([1, 'cx: --input febrl: use mapping=file, mapping=left-file,right-file or mapping=left-file,right-mapping=right-file\n']);
  });

  it('says in one line what is wrong', async () => {
    const missing = await runCx(['dedupe', 'no-such.csv', '--mapping', 'febrl'], {});
    expect([missing.code, missing.stderr]).toEqual([1, 'cx: no such file: no-such.csv\n']);
    const badThreshold = await runCx(['dedupe', `${sharedData}febrl/dataset1.csv`, '--mapping', 'febrl', '--threshold', '2'], {});
    expect(badThreshold.stderr).toBe('cx: --threshold must be a probability between 0 and 1, not 2\n');
    const noTruth = await runCx(['eval', '--pairs', join(dir, 'pairs.csv')], {});
    expect(noTruth.stderr).toBe('cx: give the truth: --truth <pairs.csv> or --truth-clusters <file.csv>\n');
  });
});
