/** Progress on stderr for long runs: silent for the first two seconds, then a line a second. */
export function progressReporter(label: string): { update(count: number): void; done(): void } {
  const started = performance.now();
  let last = started;
  let printed = false;
  const tty = process.stderr.isTTY;
  return {
    update(count) {
      const now = performance.now();
      if (now - started < 2000 || now - last < 1000) return;
      last = now;
      printed = true;
      const rate = Math.round(count / ((now - started) / 1000));
      process.stderr.write(`${tty ? '\r' : ''}${label}: ${count.toLocaleString('en')} rows (${rate.toLocaleString('en')}/s)${tty ? '' : '\n'}`);
    },
    done() {
      if (printed && tty) process.stderr.write('\n');
    },
  };
}
