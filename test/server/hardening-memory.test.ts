// Bodies just under the size limit full of unknown fields (a ~3.8 MB array of `{}`) are ignored at the cost of a scan:
// in a fresh process, RSS after several such requests stays within 100 MB of its baseline (it grew ~80 MB per request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const source = (path: string): string => pathToFileURL(resolve(path)).href;

const CHILD = `
import { buildServer } from '${source('src/server/app.ts')}';
import { serverConfig } from '${source('test/helpers/server.ts')}';
const app = await buildServer(serverConfig({ defaults: { classify: '/nonexistent/model' } }));
const send = (payload) => app.inject({ method: 'POST', url: '/v1/classify', payload, headers: { 'content-type': 'application/json' } });
await send('{"inputs": "warm up"}');
const baseline = process.memoryUsage().rss;
const body = '{"inputs": "hello", "extra": [' + Array.from({ length: 1_250_000 }, () => '{}').join(',') + ']}';
const statuses = [];
for (let i = 0; i < 6; i++) statuses.push((await send(body)).statusCode);
const rss = process.memoryUsage().rss;
await app.close();
process.stdout.write(JSON.stringify({ baseline, rss, statuses, bytes: body.length, limit: app.geul.config.server.bodyLimit }));
`;

test('ignored unknown fields do not grow the heap: RSS after 6 near-limit requests is within 100 MB of baseline', { timeout: 120_000 }, () => {
  const script = join(mkdtempSync(join(tmpdir(), 'geul-memory-')), 'child.mjs');
  writeFileSync(script, CHILD);
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 110_000 });
  assert.equal(child.status, 0, child.stderr);
  const { baseline, rss, statuses, bytes, limit } = JSON.parse(child.stdout) as { baseline: number; rss: number; statuses: number[]; bytes: number; limit: number };
  assert.ok(bytes < limit && bytes > limit * 0.85, 'the body is just under the limit');
  assert.deepEqual(statuses, [404, 404, 404, 404, 404, 404], 'the unknown field was ignored: each request reached model resolution');
  const grown = (rss - baseline) / 2 ** 20;
  assert.ok(grown < 100, `RSS grew ${grown.toFixed(0)} MB`);
});
