// `--base` with a Hub id: the checkpoint comes through the cache from a fake hub on 127.0.0.1; a GPT-2 id stops after
// config.json, before any weights are fetched.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/core/config.js';
import { isGeulError } from '../../../src/core/errors.js';
import { finetuneEncoder } from '../../../src/train/pretrained/finetune.js';
import { startFakeHub, type FakeHub } from '../../helpers/fake-hub.js';
import { sharedDataPath } from '../../helpers/shared-data.js';
import { sentimentRows, tinyBase, writeJsonl } from './finetune-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'geul-ft-hub-'));
let hub: FakeHub | undefined;
after(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

test('finetune --base acme/tiny-bert downloads the checkpoint through the cache; a GPT-2 id fails after config.json', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const files = Object.fromEntries(readdirSync(base).map((f) => [f, readFileSync(join(base, f))]));
  hub = await startFakeHub({ repos: {
    'acme/tiny-bert': { main: files },
    'acme/gpt2': { main: { 'config.json': JSON.stringify({ model_type: 'gpt2', n_embd: 8 }), 'model.safetensors': Buffer.alloc(16) } },
  } });
  const hubConfig = loadConfig({ cacheDir: join(work, 'cache'), hubUrl: hub.url }, { env: {}, skipFile: true });
  const data = writeJsonl(work, 'train.jsonl', sentimentRows(40));
  const out = join(work, 'run');
  const result = await finetuneEncoder({
    data: { source: data }, model: { base: 'acme/tiny-bert' }, optim: { lr: 2e-3 }, run: { epochs: 1, batchSize: 8, threads: 1 }, output: { dir: out },
  }, { hub: hubConfig });
  assert.deepEqual(result.labels, ['neg', 'pos']);
  assert.ok(existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'tokenizer.json')));

  const before = hub.requests.length;
  await assert.rejects(
    finetuneEncoder({ data: { source: data }, model: { base: 'acme/gpt2' }, output: { dir: join(work, 'gpt2') } }, { hub: hubConfig }),
    (err: unknown) => isGeulError(err) && err.code === 'MODEL_INVALID' && /gpt2/.test(err.message) && /bert/.test(err.message),
  );
  const fetched = hub.requests.slice(before).map((r) => r.file ?? r.path);
  assert.ok(fetched.some((p) => p.endsWith('config.json')) && !fetched.some((p) => p.endsWith('model.safetensors')), fetched.join(', '));
  assert.ok(!existsSync(join(work, 'gpt2')));
});
