// Embedded-mode durability with a real `geul serve` process: SIGKILLed mid-job, its job's child process dies with it
// (no orphan writing output); restarted on the same data dir, the job is re-queued and resumes from its last chunk
// (batch embed and classify: every row exactly once, in input order) or its last checkpoint (training, fine-tuning
// and pre-training: the uninterrupted run's history and weights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_CORPUS } from '../../src/fixtures/sample-corpus.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { finetuneEncoder } from '../../src/train/pretrained/finetune.js';
import { pretrainEncoder } from '../../src/train/pretrained/pretrain.js';
import { trainText } from '../../src/train/run.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { sharedDataPath } from '../helpers/shared-data.js';
import { spawnServe, type SpawnedServer } from '../helpers/server.js';
import { parseSse, waitFor, writeTextsJsonl, writeToyTsv } from '../jobs/helpers.js';
import { sentimentRows, tinyBase, writeJsonl } from '../train/pretrained/finetune-fixture.js';

type Job = { id: string; state: string; progress: { step: number; total: number | null }; error: unknown; artifacts: { name: string; bytes: number; url: string }[] };

async function serve(dir: string): Promise<SpawnedServer> {
  const fixtures = await fixturesDir();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ jobs: { heartbeatMs: 100 } }));
  return spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--data-dir', join(dir, 'data'),
    '--default', `embeddings=${join(fixtures, 'tiny-bert-embed')}`, '--default', `classify=${join(fixtures, 'tiny-bert-sentiment')}`, '--log-level', 'warn'], { ...process.env, GEUL_CONFIG: config });
}

const getJob = async (url: string, id: string) => (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as Job;

/** Reads the job's event stream until the runner's "started in process N" line, then leaves. */
async function childPid(url: string, id: string): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/jobs/${id}/events`, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended without a pid: ${text}`);
    text += Buffer.from(value).toString();
    const pid = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2)).find((e) => typeof e.data.pid === 'number')?.data.pid as number | undefined;
    if (pid !== undefined) {
      controller.abort();
      return pid;
    }
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Submits, waits until `ready(job)`, SIGKILLs the server, checks the job's child died too, restarts and waits for the end. */
async function crashAndResume(dir: string, body: unknown, ready: (job: Job) => boolean): Promise<{ url: string; job: Job; events: ReturnType<typeof parseSse>; stop: () => void }> {
  const first = await serve(dir);
  const exited = new Promise((resolve) => first.child.on('exit', resolve));
  const submitted = await fetch(`${first.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(submitted.status, 201);
  const { id } = (await submitted.json()) as Job;
  const pid = await childPid(first.url, id);
  await waitFor(async () => {
    const job = await getJob(first.url, id);
    assert.ok(!['succeeded', 'failed', 'cancelled'].includes(job.state), `the job ended before the crash: ${JSON.stringify(job)}`);
    return ready(job) ? job : undefined;
  }, 'the job to get going', 6000, 10);
  first.child.kill('SIGKILL');
  await exited;
  await waitFor(async () => (alive(pid) ? undefined : true), `the job's child process ${pid} to exit with its parent`, 500, 20);

  const second = await serve(dir);
  const job = await waitFor(async () => {
    const j = await getJob(second.url, id);
    return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
  }, 'the resumed job to finish', 6000, 50);
  const events = parseSse(await (await fetch(`${second.url}/v1/jobs/${id}/events`)).text());
  return { url: second.url, job, events, stop: () => second.child.kill('SIGKILL') };
}

test('SIGKILL during a batch embed: after a restart the output holds every row exactly once, in input order', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-jobs-crash-embed-'));
  const rows = 3000;
  writeTextsJsonl(join(dir, 'texts.jsonl'), rows);
  const { url, job, events, stop } = await crashAndResume(dir, { type: 'embed', params: { input: join(dir, 'texts.jsonl'), id: 'id', chunkSize: 10 } },
    (j) => j.state === 'running' && j.progress.step >= 200);
  try {
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(events.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded'], 'running → re-queued by the restart → running again');
    assert.ok(events.some((e) => e.event === 'log' && /re-queued/.test(String(e.data.message))));
    // The second attempt started after the last committed chunk, not from row 0.
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.step as number);
    const restartAt = events.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    const resumedFrom = events.slice(restartAt).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedFrom >= 200 && resumedFrom < rows, `resumed from row ${resumedFrom} (progress ${progress.join(',')})`);
    const artifact = job.artifacts.find((a) => a.name === 'embeddings.jsonl')!;
    const lines = (await (await fetch(`${url}${artifact.url}`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; embedding: number[] });
    assert.equal(lines.length, rows);
    assert.deepEqual(lines.map((l) => l.index), Array.from({ length: rows }, (_, i) => i));
    assert.deepEqual(lines.map((l) => l.id), Array.from({ length: rows }, (_, i) => `r${i}`));
    assert.ok(lines.every((l) => l.embedding.length === lines[0].embedding.length && l.embedding.every(Number.isFinite)));
  } finally {
    stop();
  }
});

test('SIGKILL during a batch classify: after a restart every row is classified exactly once, in input order', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-jobs-crash-classify-'));
  const rows = 3000;
  writeTextsJsonl(join(dir, 'texts.jsonl'), rows);
  const { url, job, events, stop } = await crashAndResume(dir, { type: 'classify', params: { input: join(dir, 'texts.jsonl'), id: 'id', chunkSize: 10, top_k: 1 } },
    (j) => j.state === 'running' && j.progress.step >= 200);
  try {
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(events.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded']);
    const restartAt = events.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    const resumedFrom = events.slice(restartAt).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedFrom >= 200 && resumedFrom < rows, `resumed from row ${resumedFrom}`);
    const artifact = job.artifacts.find((a) => a.name === 'classifications.jsonl')!;
    const lines = (await (await fetch(`${url}${artifact.url}`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; labels: { label: string; score: number }[] });
    assert.equal(lines.length, rows);
    assert.deepEqual(lines.map((l) => l.index), Array.from({ length: rows }, (_, i) => i));
    assert.deepEqual(lines.map((l) => l.id), Array.from({ length: rows }, (_, i) => `r${i}`));
    assert.ok(lines.every((l) => l.labels.length === 1 && Number.isFinite(l.labels[0].score)));
  } finally {
    stop();
  }
});

test('SIGKILL during training: the job resumes from its last checkpoint and ends with the uninterrupted run\'s history', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-jobs-crash-train-'));
  writeToyTsv(join(dir, 'toy.tsv'));
  const spec = { data: { source: join(dir, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'lstm' as const, dim: 8, hidden: 8 }, optim: { lr: 0.02 }, run: { epochs: 8, batchSize: 8, seed: 5, threads: 1 } };
  // 128 training rows in batches of 8: 16 steps an epoch; past step 40 the checkpoint of epoch 2 exists.
  const { url, job, events, stop } = await crashAndResume(dir, { type: 'train', params: spec }, (j) => j.state === 'running' && j.progress.step > 40);
  try {
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.ok(events.some((e) => e.event === 'log' && e.data.message === 'resuming from the last checkpoint'));
    const metrics = JSON.parse(await (await fetch(`${url}/v1/jobs/${job.id}/artifacts/run/metrics.json`)).text()) as { history: { epoch: number; trainLoss: number; validAccuracy: number }[] };
    assert.deepEqual(metrics.history.map((h) => h.epoch), [1, 2, 3, 4, 5, 6, 7, 8], 'every epoch once');
    const uninterrupted = await trainText({ ...spec, output: { dir: join(dir, 'uninterrupted') } });
    metrics.history.forEach((h, i) => {
      assert.ok(Math.abs(h.trainLoss - uninterrupted.history[i].trainLoss) < 1e-6, `epoch ${h.epoch}: ${h.trainLoss} vs ${uninterrupted.history[i].trainLoss}`);
      assert.equal(h.validAccuracy, uninterrupted.history[i].validAccuracy);
    });
    assert.ok(job.artifacts.some((a) => a.name === 'run/onnx/model.onnx' && statSync(join(dir, 'data', 'jobs', job.id, a.name)).size > 0), 'the exported model is an artifact');
  } finally {
    stop();
  }
});

test('SIGKILL during pre-training: the job resumes from its last checkpoint and ends with the uninterrupted run\'s weights', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-jobs-crash-pretrain-'));
  const texts = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko];
  writeFileSync(join(dir, 'corpus.txt'), Array.from({ length: 120 }, (_, i) => `${texts[i % texts.length]} ${texts[(i * 7) % texts.length]}`).join('\n'));
  const spec = {
    data: { sources: [join(dir, 'corpus.txt')], heldOutFraction: 0.1 }, model: { size: 'tiny' as const, vocabSize: 300 }, optim: { lr: 5e-3 },
    run: { steps: 400, batchSize: 4, maxLength: 16, evalEvery: 200, checkpointEvery: 20, seed: 2, threads: 1 },
  };
  // Checkpoints every 20 steps: past step 50 the one of step 40 exists.
  const { job, events, stop } = await crashAndResume(dir, { type: 'pretrain', params: spec }, (j) => j.state === 'running' && j.progress.step > 50);
  try {
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.ok(events.some((e) => e.event === 'log' && e.data.message === 'resuming from the last checkpoint'));
    const restartAt = events.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    const resumedFrom = events.slice(restartAt).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedFrom >= 40 && resumedFrom % 20 === 0, `resumed from step ${resumedFrom}`);
    const uninterrupted = join(dir, 'uninterrupted');
    await pretrainEncoder({ ...spec, output: { dir: uninterrupted } });
    const [a, b] = [await loadCheckpoint(uninterrupted), await loadCheckpoint(join(dir, 'data', 'jobs', job.id, 'run'))];
    assert.equal(b.meta.step, 400);
    for (const [name, values] of a.state.params) assert.deepEqual(b.state.params.get(name), values, name);
    assert.ok(job.artifacts.some((a) => a.name === 'run/model.safetensors'), 'the model folder is an artifact');
  } finally {
    stop();
  }
});

test('SIGKILL during fine-tuning: the job resumes from its last checkpoint and ends with the uninterrupted run\'s weights', { timeout: 240_000 }, async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const dir = mkdtempSync(join(tmpdir(), 'geul-jobs-crash-finetune-'));
  const spec = {
    data: { source: writeJsonl(dir, 'train.jsonl', sentimentRows(30)) }, model: { base: tinyBase(reference) }, optim: { lr: 1e-3 },
    run: { epochs: 10, batchSize: 4, evalEvery: 5, seed: 3, threads: 1 },
  };
  // 24 training rows in batches of 4: 6 steps an epoch; a checkpoint every 5 steps, so past step 12 the one of step 10 exists.
  const { job, events, stop } = await crashAndResume(dir, { type: 'finetune', params: spec }, (j) => j.state === 'running' && j.progress.step > 12);
  try {
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.ok(events.some((e) => e.event === 'log' && e.data.message === 'resuming from the last checkpoint'));
    const uninterrupted = join(dir, 'uninterrupted');
    await finetuneEncoder({ ...spec, output: { dir: uninterrupted } });
    const [a, b] = [await loadCheckpoint(uninterrupted), await loadCheckpoint(join(dir, 'data', 'jobs', job.id, 'run'))];
    assert.equal(b.meta.step, a.meta.step);
    for (const [name, values] of a.state.params) assert.deepEqual(b.state.params.get(name), values, name);
    assert.ok(job.artifacts.some((x) => x.name === 'run/onnx/model.onnx'), 'the exported model is an artifact');
  } finally {
    stop();
  }
});
