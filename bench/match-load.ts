/**
 * The second process of `bench:match`'s concurrent mode: autocannon sending match queries to the
 * exchange over loopback, `connections` at once for `seconds`, each request the next body of the
 * list. Prints one JSON line: matches per second and latency percentiles over every response.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, bodiesFile, connections, seconds] = process.argv.slice(2) as [string, string, string, string];
const bodies = readFileSync(bodiesFile, 'utf8').trim().split('\n');
let next = 0;
const latencies: number[] = [];
const statuses: Record<number, number> = {};
const startCpu = process.cpuUsage();
const instance = autocannon({
  url: `${url}/v1/match`,
  connections: Number(connections),
  duration: Number(seconds),
  method: 'POST',
  headers: { authorization: `Bearer ${process.env.BENCH_KEY}`, 'consent-token': process.env.BENCH_TOKEN!, 'content-type': 'application/json' },
  requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }) }],
}, (error) => {
  if (error) throw error;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const cpu = process.cpuUsage(startCpu);
  const loadCpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ ok: latencies.length, perSecond: latencies.length / Number(seconds), p50: at(0.5), p95: at(0.95), p99: at(0.99), statuses, loadCpuSeconds })}\n`);
});
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  if (statusCode === 200) latencies.push(responseTime);
});
