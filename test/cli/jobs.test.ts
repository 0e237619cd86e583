// `geul jobs …` against a real server on a loopback port: submit with an upload and --watch, list, show, watch --json,
// artifacts (a partial download continues with a Range request), cancel, and a clear error when no server answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';
import { writeTextsJsonl } from '../jobs/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-jobs-cli-'));
let app: FastifyInstance;
let url: string;

before(async () => {
  const fixtures = await fixturesDir();
  app = await buildServer(serverConfig({ defaults: { embeddings: join(fixtures, 'tiny-bert-embed'), classify: join(fixtures, 'tiny-bert-sentiment') } }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  writeTextsJsonl(join(work, 'texts.jsonl'), 50);
});
after(() => app.close());

test('submit --upload --watch, list, show, watch --json, artifacts with a continued download, cancel', { timeout: 180_000 }, async () => {
  const submitted = await runCli(['jobs', 'submit', 'embed', '--upload', `input=${join(work, 'texts.jsonl')}`, '--set', 'chunkSize=20', '--set', 'id=id', '--watch', '--url', url]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  assert.match(id, /^job_/);
  assert.match(submitted.stderr, /succeeded/);

  const list = await runCli(['jobs', 'list', '--json'], { env: { GEUL_URL: url } });
  assert.equal(list.code, 0, list.stderr);
  const [listed] = jsonLines(list.stdout) as { id: string; state: string; params: { input: string } }[];
  assert.equal(listed.id, id);
  assert.equal(listed.state, 'succeeded');
  assert.match(listed.params.input, /^file-/, 'the file was uploaded and named by its id');

  const show = await runCli(['jobs', 'show', id, '--url', url]);
  assert.match(show.stdout, /succeeded\t50\/50/);
  assert.match(show.stdout, /artifact\tembeddings\.jsonl/);

  const events = jsonLines((await runCli(['jobs', 'watch', id, '--json', '--url', url])).stdout) as { event: string; state?: string }[];
  assert.equal(events.at(-1)?.state, 'succeeded');
  assert.ok(events.some((e) => e.event === 'progress'));

  const out = join(work, 'out');
  const whole = await runCli(['jobs', 'artifacts', id, 'embeddings.jsonl', '-o', out, '--url', url]);
  assert.equal(whole.code, 0, whole.stderr);
  const content = readFileSync(join(out, 'embeddings.jsonl'), 'utf8');
  assert.deepEqual(content.trim().split('\n').map((l) => (JSON.parse(l) as { index: number }).index), Array.from({ length: 50 }, (_, i) => i));
  const resumed = join(work, 'resumed');
  await runCli(['jobs', 'artifacts', id, '--url', url]); // the listing works too
  mkdirSync(resumed);
  writeFileSync(join(resumed, 'embeddings.jsonl.partial'), content.slice(0, 1000));
  assert.equal((await runCli(['jobs', 'artifacts', id, 'embeddings.jsonl', '-o', resumed, '--url', url])).code, 0);
  assert.equal(readFileSync(join(resumed, 'embeddings.jsonl'), 'utf8'), content, 'the partial download was continued, not duplicated');

  const cancel = await runCli(['jobs', 'cancel', id, '--url', url]);
  assert.match(cancel.stderr, /is succeeded/, 'a finished job stays as it is');
  const missing = await runCli(['jobs', 'show', 'job_missing', '--url', url]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\[NOT_FOUND\]/);
});

test('the new job types: a classify job over an uploaded .txt, line by line; bad params fail before any upload', { timeout: 120_000 }, async () => {
  writeFileSync(join(work, 'reviews.txt'), 'a great film\na dull film\nfine\n');
  const submitted = await runCli(['jobs', 'submit', 'classify', '--upload', `input=${join(work, 'reviews.txt')}`, '--set', 'top_k=1', '--set', 'id=line', '--watch', '--url', url]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  const out = join(work, 'classified');
  assert.equal((await runCli(['jobs', 'artifacts', id, 'classifications.jsonl', '-o', out, '--url', url])).code, 0);
  const rows = jsonLines(readFileSync(join(out, 'classifications.jsonl'), 'utf8')) as { index: number; id: number; labels: unknown[] }[];
  assert.deepEqual(rows.map((r) => [r.index, r.id, r.labels.length]), [[0, 1, 1], [1, 2, 1], [2, 3, 1]]);

  const bad = await runCli(['jobs', 'submit', 'pretrain', '--upload', `data.sources=${join(work, 'reviews.txt')}`, '--set', 'model.vocabSize=100', '--url', url]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /params\.model\.size/);
  const listed = jsonLines((await runCli(['jobs', 'list', '--json', '--type', 'pretrain', '--url', url])).stdout);
  assert.deepEqual(listed, [], 'nothing was submitted');
});

test('no server: SERVER_UNREACHABLE, with how to fix it', async () => {
  const res = await runCli(['jobs', 'list', '--url', 'http://127.0.0.1:9']);
  assert.equal(res.code, 3);
  assert.match(res.stderr, /Cannot reach the geul server at http:\/\/127\.0\.0\.1:9.*\[SERVER_UNREACHABLE\]/);
});
