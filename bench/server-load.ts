// The server benchmark's load generator, run as its own process so that its CPU is not the server's: autocannon, then a JSON line.
// Usage (from bench/server.ts): tsx bench/server-load.ts URL CONNECTIONS SECONDS BODY_FILE
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, connections, seconds, bodyFile] = process.argv.slice(2);
const bodies = JSON.parse(readFileSync(bodyFile, 'utf8')) as string[];
let next = 0;
const start = process.cpuUsage();
const started = performance.now();
const result = await autocannon({
  url, method: 'POST', connections: Number(connections), duration: Number(seconds), headers: { 'content-type': 'application/json' },
  // Bodies in turn (one sentence each; mixed lengths when the file holds several).
  requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
});
const cpu = process.cpuUsage(start);
const wall = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({
  rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx,
  cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall,
})}\n`);
