/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it.
 * A lock file with the owner's pid makes the second one stop with a clear message instead.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DirectoryLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock on `directory`; returns the function that releases it. */
export function lockDirectory(directory: string): () => void {
  const file = join(directory, 'cx.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DirectoryLockedError(
          `the embedded database in ${directory} is in use by process ${owner}; stop it (or use its HTTP API), or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      rmSync(file, { force: true }); // left behind by a process that died
    }
  }
  throw new DirectoryLockedError(`could not lock ${directory}`);
}
