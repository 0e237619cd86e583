// The word2vec and train job types as plain functions: their artifacts, their events mapped to progress and metrics,
// and reruns (at-least-once delivery) that give the same result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { listArtifacts } from '../../src/jobs/artifacts.js';
import type { JobRunEvent, JobType } from '../../src/jobs/job-type.js';
import { parseJobParams } from '../../src/jobs/params.js';
import { getJobType } from '../../src/jobs/table.js';
import { readVectors } from '../../src/words/formats.js';
import { writeToyTsv } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-job-types-'));
const config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });

async function run(type: JobType, dir: string, params: Record<string, unknown>, resume = false): Promise<JobRunEvent[]> {
  mkdirSync(dir, { recursive: true });
  const events: JobRunEvent[] = [];
  await type.run(parseJobParams(type, params) as never, { signal: new AbortController().signal, emit: (e) => events.push(e), workDir: dir, resume, config });
  return events;
}

test('word2vec: vectors.bin as the artifact, progress and words/s; a rerun writes the same vectors', { timeout: 120_000 }, async () => {
  const corpus = join(work, 'corpus.txt');
  const words = ['king', 'queen', 'man', 'woman', 'royal', 'crown', 'walks', 'talks', 'the', 'a'];
  writeFileSync(corpus, Array.from({ length: 400 }, (_, i) => Array.from({ length: 8 }, (_, k) => words[(i * 3 + k * 7) % words.length]).join(' ')).join('\n'));
  const type = getJobType('word2vec');
  const params = { corpus: [corpus], vectorSize: 8, minCount: 1, epochs: 2, threads: 1, seed: 3, kernel: 'js' };
  const dir = join(work, 'w2v');
  const events = await run(type, dir, params);
  assert.ok(events.some((e) => e.kind === 'progress'));
  assert.ok(events.some((e) => e.kind === 'metrics' && typeof e.values.words_per_s === 'number'));
  assert.deepEqual((await listArtifacts(dir)).map((a) => a.name), ['vectors.bin']);
  const first = await readVectors(join(dir, 'vectors.bin'));
  assert.equal(first.dim, 8);
  assert.deepEqual([...first.words].sort(), [...words].sort());
  await run(type, dir, params, true);
  const again = await readVectors(join(dir, 'vectors.bin'));
  for (const w of words) assert.deepEqual(again.vector(w), first.vector(w), `the same vector for "${w}" on a rerun`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.vectors')), [], 'no partial vector file left');
});

test('train: the run folder with the exported model; steps become progress and metrics; epochs become metrics', { timeout: 120_000 }, async () => {
  const data = join(work, 'toy.tsv');
  writeToyTsv(data);
  const dir = join(work, 'train');
  const events = await run(getJobType('train'), dir, { data: { source: data, maxLength: 10, vocabSize: 50 }, model: { name: 'bow' }, run: { epochs: 2, batchSize: 16, seed: 1, threads: 1 } });
  const steps = events.filter((e) => e.kind === 'progress').map((e) => (e as { step: number; total: number }));
  assert.equal(steps.at(-1)!.step, steps.at(-1)!.total);
  assert.ok(events.some((e) => e.kind === 'metrics' && typeof e.values.loss === 'number'));
  const epochs = events.flatMap((e) => (e.kind === 'metrics' && 'valid_accuracy' in e.values ? [e.values.epoch] : []));
  assert.deepEqual(epochs, [1, 2]);
  assert.ok(existsSync(join(dir, 'run', 'onnx', 'model.onnx')));
  const names = (await listArtifacts(dir)).map((a) => a.name);
  for (const name of ['run/config.json', 'run/metrics.json', 'run/report.html', 'run/onnx/model.onnx']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  // A resumed attempt after the run ended: the checkpoint says all epochs are done, so it changes nothing.
  const metrics = readFileSync(join(dir, 'run', 'metrics.json'), 'utf8');
  const resumed = await run(getJobType('train'), dir, { data: { source: data, maxLength: 10, vocabSize: 50 }, model: { name: 'bow' }, run: { epochs: 2, batchSize: 16, seed: 1, threads: 1 } }, true);
  assert.ok(resumed.some((e) => e.kind === 'log' && e.message === 'resuming from the last checkpoint'));
  assert.equal(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'), metrics);
});
