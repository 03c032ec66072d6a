/** Runs the real `cx` binary in a child process against a fresh database of the engine under test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServerDatabase } from './database.js';

/**
 * A hang guard for tests that spawn the binary, not a speed claim: each spawn loads the CLI and
 * opens a database, and two such files on a busy two-core machine took 29–30 s per test in CI.
 */
export const cliTimeout = { timeout: 120_000 };

export const cxBin = join(import.meta.dirname, '../../bin/cx.js');

export interface CliEnv {
  env: Record<string, string>;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function freshCliEnv(): Promise<CliEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cx-cli-'));
  const env: Record<string, string> = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  let dropDatabase = async () => {};
  if (process.env.TEST_DATABASE_URL) {
    const database = await createServerDatabase('cx_cli', false);
    env.DATABASE_URL = database.url;
    dropDatabase = database.drop;
  }
  return { env, dataDir, cleanup: async () => (await dropDatabase(), rmSync(dataDir, { recursive: true, force: true })) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCx(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cxBin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Starts `cx serve` on a free port and resolves once it listens. */
export function startCxServe(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string; stdout: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cxBin, 'serve'], { env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/[^\s"]+)/);
      if (match) resolve({ child, url: match[1]!, output: () => output, stdout: () => stdout, exited });
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      onData(chunk);
    });
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`cx serve exited with ${code}: ${output}`)));
  });
}
