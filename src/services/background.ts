/** Work a request starts and leaves running (linkage jobs, model training), so tests and shutdown can wait for it. */
export const runningJobs = new Set<Promise<void>>();

/** Keeps `work` among the running jobs until it settles. */
export function runInBackground(work: Promise<void>): void {
  runningJobs.add(work);
  void work.finally(() => runningJobs.delete(work));
}
