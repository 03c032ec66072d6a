import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { evaluatePairs, idPairs, parsePairsCsv, precisionRecallCurve } from '../../match/evaluate.js';
import { blockRecords } from '../../match/block.js';
import { linkCandidates, type Link, type LinkOptions } from '../../match/link.js';
import { pairCount } from '../../match/pairs.js';
import { defaultModel, defaultThresholds, loadModel, type MatchModel } from '../../match/model.js';
import { degenerateLevels } from '../../match/train.js';
import { readOfflineFile, type OfflineFile } from '../offline-files.js';
import { CliError, jsonOption, printJson } from '../output.js';

const probability = (value: string, flag = '--threshold') => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new CliError(`${flag} must be a probability between 0 and 1, not ${value}`);
  return n;
};

function writePairs(links: Link[], out: string | undefined): void {
  const lines = ['left_id,right_id,probability,grade', ...links.map((l) => `${l.leftId},${l.rightId},${l.probability.toFixed(6)},${l.grade ?? ''}`)];
  const text = `${lines.join('\n')}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

const progress = (stage: string, done: number, total: number) => {
  if (process.stderr.isTTY || total >= 50_000) process.stderr.write(`  ${stage}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')}\n`);
};

function chooseModel(file: string | undefined): MatchModel {
  return file ? loadModel(file) : defaultModel();
}

interface LinkCommandOptions {
  mapping: string;
  threshold?: string;
  model?: string;
  out?: string;
}

/**
 * Reads the files in memory, blocks and links them, writes the pairs and a summary line. No
 * database: blocking runs the model's rules in memory (src/match/block.ts), as the store runs them
 * in SQL for the service.
 */
async function offlineLinkage(
  options: LinkCommandOptions,
  load: () => Promise<[OfflineFile, OfflineFile, Pick<LinkOptions, 'oneToOne' | 'cluster' | 'clusterThreshold'>]>,
): Promise<void> {
  const model = chooseModel(options.model);
  const threshold = options.threshold ? probability(options.threshold) : model.thresholds.possible;
  const started = performance.now();
  const [left, right, extra] = await load();
  const within = left === right;
  const { pairs, blocking } = await blockRecords(left.blocking, within ? left.blocking : right.blocking, model.blocking);
  progress('candidates', pairCount(pairs), pairCount(pairs));
  const result = { ...(await linkCandidates(pairs, left.comparables, right.comparables, within, { model, threshold, onProgress: progress, ...extra })), blocking };
  writePairs(result.links, options.out);
  const what = within ? `deduplicated ${result.leftRecords} records` : `linked ${result.leftRecords} × ${result.rightRecords} records`;
  process.stderr.write(`${what}: ${result.candidatePairs} candidate pairs compared, ${result.links.length} pairs, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  for (const rule of result.blocking.rules) {
    if (rule.leftOut) process.stderr.write(`  blocking rule ${rule.name} left out: even refined by ${rule.refinedBy!.join(' and ')} it would compare ${rule.pairs} pairs\n`);
    else if (rule.refinedBy) process.stderr.write(`  blocking rule ${rule.name} refined by ${rule.refinedBy.join(' and ')}: ${rule.pairs} pairs\n`);
  }
  if (result.clusterReport) {
    const r = result.clusterReport;
    const sizes = Object.entries(r.sizes).map(([size, count]) => `${count}×${size}`).join(', ');
    process.stderr.write(`  ${r.clusters} clusters (${sizes}); the largest ${r.largest}, mean density ${r.meanDensity}; ${r.split} components split\n`);
  }
  const fitted = result.calibration;
  if (fitted) {
    const { prior } = fitted;
    const said = prior.estimated === null
      ? `the model's prior ${prior.model.toExponential(2)} kept (${prior.rulePairs} pairs share a birth date and names)`
      : `prior ${prior.estimated.toExponential(2)} (the model's ${prior.model.toExponential(2)}): ${prior.rulePairs} pairs share a birth date and names, over the ${prior.ruleRecall} of true pairs that do`;
    process.stderr.write(`  fitted to this data: ${said}\n`);
  }
  if (result.constantFields.length) process.stderr.write(`  the same for (almost) everyone here, so weighing nothing: ${result.constantFields.join(', ')}\n`);
  const recall = result.blocking.recall.map((r) => `${r.field} ${(r.compared * 100).toFixed(1)} % of ${r.agreeing}`).join(', ');
  if (recall) process.stderr.write(`  pairs agreeing on a field that the blocking rules compare: ${recall}\n`);
}

/** Offline record linkage on files: link, dedupe, eval, and the model's training. */
export function registerLink(program: Command): void {
  program
    .command('link')
    .description('link the records of two files (in memory, no database); writes left_id,right_id,probability,grade')
    .argument('<left>', 'left file')
    .argument('<right>', 'right file')
    .requiredOption('-m, --mapping <m>', 'mapping of the left file (and the right, unless --right-mapping)')
    .option('--right-mapping <m>', 'mapping of the right file')
    .option('-t, --threshold <p>', 'lowest probability kept (default: the model\'s "possible" grade)')
    .option('--one-to-one', 'link each record at most once, best first')
    .option('--model <file>', 'a model from cx model train (default: the shipped one)')
    .option('-o, --out <file>', 'where to write the pairs (default: standard output)')
    .action(async (leftFile: string, rightFile: string, options: LinkCommandOptions & { rightMapping?: string; oneToOne?: boolean }) => {
      await offlineLinkage(options, async () => {
        const left = await readOfflineFile(leftFile, options.mapping);
        const right = await readOfflineFile(rightFile, options.rightMapping ?? options.mapping);
        return [left, right, { oneToOne: options.oneToOne }];
      });
    });

  program
    .command('dedupe')
    .description('find the records of one file that are the same customer; writes left_id,right_id,probability,grade')
    .argument('<file>', 'the file')
    .requiredOption('-m, --mapping <m>', 'its mapping')
    .option('-t, --threshold <p>', 'lowest probability kept (default: the model\'s "possible" grade)')
    .option('--cluster', 'also write the pairs that transitive links imply, within clusters dense enough to hold (sparse or large ones are split at their weakest links)')
    .option('--cluster-threshold <p>', 'the probability a link needs to join a cluster (default: --threshold)')
    .option('--model <file>', 'a model from cx model train (default: the shipped one)')
    .option('-o, --out <file>', 'where to write the pairs (default: standard output)')
    .action(async (file: string, options: LinkCommandOptions & { cluster?: boolean; clusterThreshold?: string }) => {
      const clusterThreshold = options.clusterThreshold === undefined ? undefined : probability(options.clusterThreshold, '--cluster-threshold');
      await offlineLinkage(options, async () => {
        const data = await readOfflineFile(file, options.mapping);
        return [data, data, { cluster: options.cluster, clusterThreshold }];
      });
    });

  program
    .command('eval')
    .description('precision, recall and F1 of found pairs against the true pairs')
    .requiredOption('--pairs <file>', 'found pairs (CSV: left_id,right_id[,probability])')
    .option('--truth <file>', 'true pairs (CSV: id,id)')
    .option('--truth-clusters <file>', 'or a CSV whose rows sharing a cluster are the same entity')
    .option('--id-column <c>', 'id column of --truth-clusters', 'unique_id')
    .option('--cluster-column <c>', 'cluster column of --truth-clusters', 'cluster')
    .option('--curve', 'also print precision and recall at a range of thresholds (needs the probability column)')
    .option('--linkage', 'the pairs link two files: (a, b) is not (b, a); as always, equal ids on both sides are a pair')
    .action((options: { pairs: string; truth?: string; truthClusters?: string; idColumn: string; clusterColumn: string; curve?: boolean; linkage?: boolean }) => {
      const read = (file: string) => {
        try {
          return readFileSync(file, 'utf8');
        } catch {
          throw new CliError(`cannot read ${file}`);
        }
      };
      const parse = (file: string) => {
        try {
          return parsePairsCsv(read(file));
        } catch (error) {
          throw new CliError(`${file} is not a CSV of pairs: ${(error as Error).message.split('\n')[0]}`);
        }
      };
      const scored = parse(options.pairs);
      const found = idPairs(scored);
      const evaluation = { ordered: options.linkage ?? false };
      let truth: [string, string][];
      if (options.truth) truth = idPairs(parse(options.truth));
      else if (options.truthClusters) truth = pairsFromClusters(read(options.truthClusters), options.idColumn, options.clusterColumn);
      else throw new CliError('give the truth: --truth <pairs.csv> or --truth-clusters <file.csv>');
      const result = evaluatePairs(found, truth, evaluation);
      process.stdout.write(
        `precision ${result.precision.toFixed(4)}  recall ${result.recall.toFixed(4)}  F1 ${result.f1.toFixed(4)}  ` +
          `(${result.truePositives} of ${result.found} found pairs true; ${result.truePairs} true pairs)\n`,
      );
      if (options.curve) {
        if (scored.some((pair) => Number.isNaN(pair.probability))) throw new CliError(`--curve needs a probability in the third column of ${options.pairs}`);
        for (const point of precisionRecallCurve(scored, truth, undefined, evaluation)) {
          process.stdout.write(`  threshold ${point.threshold.toString().padEnd(5)}  precision ${point.precision.toFixed(4)}  recall ${point.recall.toFixed(4)}  F1 ${point.f1.toFixed(4)}\n`);
        }
      }
    });

  const model = program.command('model').description('the match model: train one without labels, or show one');
  model
    .command('train')
    .description('train a model without labels, as Splink does: u from random pairs, m by EM in passes blocked on names and on birth dates, the prior from pairs sharing a birth date and names; a degenerate model is refused')
    .requiredOption(
      '-i, --input <mapping=file...>',
      'training data, each as mapping=file to deduplicate one file, or mapping=left-file,right-file (or mapping=left-file,right-mapping=right-file) to link two',
    )
    .option('--from <file>', 'a model whose settings (levels, term frequencies, blocking, thresholds) training starts from (default: the shipped one)')
    .option('-o, --out <file>', 'where to write the model (default: standard output)')
    .action(async (options: { input: string[]; from?: string; out?: string }) => {
      const start = chooseModel(options.from);
      // Training still runs in the embedded database (its passes are blocked in SQL): loaded only here.
      const [{ openWorkspace }, { trainOnDatasets }] = await Promise.all([import('../workspace.js'), import('../../services/link-datasets.js')]);
      const workspace = await openWorkspace();
      try {
        const sides = [];
        for (const [index, spec] of options.input.entries()) {
          const match = /^([^=,]+)=([^,]+)(?:,(?:([^=,]+)=)?([^,]+))?$/.exec(spec);
          if (!match) throw new CliError(`--input ${spec}: use mapping=file, mapping=left-file,right-file or mapping=left-file,right-mapping=right-file`);
          const [, mapping, leftFile, rightMapping, rightFile] = match as unknown as [string, string, string, string | undefined, string | undefined];
          const left = await workspace.load(leftFile, mapping, `train-${index}-left`);
          const right = rightFile ? await workspace.load(rightFile, rightMapping ?? mapping, `train-${index}-right`) : left;
          sides.push({ left, right, label: rightFile ? `${leftFile} × ${rightFile}` : leftFile });
        }
        // Comparisons the data never fill keep the starting model's parameters.
        const result = await trainOnDatasets(workspace.db, sides, start);
        const problems = degenerateLevels(result.model);
        if (problems.length) throw new CliError(`the trained model is degenerate and was not written: ${problems.join('; ')}`);
        const text = `${JSON.stringify(result.model, null, 2)}\n`;
        if (options.out) writeFileSync(options.out, text);
        else process.stdout.write(text);
        for (const pass of result.passes) process.stderr.write(`  pass ${pass.name}: ${pass.pairs} pairs, ${pass.iterations} EM iterations\n`);
        process.stderr.write(`trained on ${result.pairs} pairs; prior ${result.model.prior}\n`);
      } finally {
        await workspace.close();
      }
    });
  model
    .command('show')
    .description('print a model\'s levels with their m, u and match weight')
    .argument('[file]', 'a model file (default: the shipped one)')
    .addOption(jsonOption())
    .action((file: string | undefined, options: { json?: boolean }) => {
      const shown = chooseModel(file);
      if (options.json) return printJson(shown);
      process.stdout.write(`prior ${shown.prior}; thresholds certain ${shown.thresholds.certain}, probable ${shown.thresholds.probable}, possible ${shown.thresholds.possible}\n`);
      for (const [comparison, levels] of Object.entries(shown.comparisons)) {
        process.stdout.write(`${comparison}\n`);
        for (const [label, { m, u }] of Object.entries(levels)) {
          process.stdout.write(`  ${label.padEnd(20)} m ${m.toFixed(4).padStart(7)}  u ${u.toExponential(2).padStart(9)}  weight ${Math.log2(m / u).toFixed(2).padStart(6)}\n`);
        }
      }
    });
}

/** True pairs from a file of records with a cluster column. */
export function pairsFromClusters(text: string, idColumn: string, clusterColumn: string): [string, string][] {
  const [header, ...rows] = text.split(/\r?\n/).filter((l) => l.trim());
  const columns = header!.split(',').map((c) => c.trim());
  const id = columns.indexOf(idColumn);
  const cluster = columns.indexOf(clusterColumn);
  if (id < 0 || cluster < 0) throw new CliError(`the truth file has no ${id < 0 ? idColumn : clusterColumn} column`);
  const members = new Map<string, string[]>();
  for (const row of rows) {
    const cells = row.split(',');
    members.set(cells[cluster]!, [...(members.get(cells[cluster]!) ?? []), cells[id]!]);
  }
  const pairs: [string, string][] = [];
  for (const ids of members.values()) for (let i = 0; i < ids.length; i += 1) for (let j = i + 1; j < ids.length; j += 1) pairs.push([ids[i]!, ids[j]!]);
  return pairs;
}
