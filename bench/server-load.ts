// The server benchmark's load generator, run as its own process so that its CPU is not the server's: autocannon, then a JSON line.
// Usage (from bench/server.ts): tsx bench/server-load.ts URL CONNECTIONS SECONDS BODY_FILE
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, connections, seconds, bodyFile] = process.argv.slice(2);
const bodies = JSON.parse(readFileSync(bodyFile, 'utf8')) as string[];
let next = 0;
const start = process.cpuUsage();
const started = performance.now();
// autocannon's histogram keeps whole milliseconds (a 5.9 ms answer counts as 5): at c=1, where answers take 5–7 ms,
// that rounding is as large as the difference measured, so the percentiles come from each 2xx answer's exact time.
const times: number[] = [];
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon({
    url, method: 'POST', connections: Number(connections), duration: Number(seconds), headers: { 'content-type': 'application/json' },
    // Bodies in turn (one sentence each; mixed lengths when the file holds several).
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  }, (err, done) => (err ? reject(err) : resolve(done)));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) times.push(ms);
  });
});
times.sort((a, b) => a - b);
const percentile = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] : 0);
const cpu = process.cpuUsage(start);
const wall = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({
  rps: result.requests.average, p50: percentile(50), p99: percentile(99), errors: result.errors + result.non2xx,
  cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall,
})}\n`);
