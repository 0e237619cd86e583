// `geul finetune` from the command line: a tiny fine-tune with --json, its --help, and a bad option named as typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { sharedDataPath } from '../helpers/shared-data.js';
import { sentimentRows, tinyBase, writeJsonl } from '../train/pretrained/finetune-fixture.js';

test('geul finetune: trains, prints JSON, writes a HF model folder; --batch-size 0 is named; --help lists the options', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const dir = mkdtempSync(join(tmpdir(), 'geul-ft-cli-'));
  const data = writeJsonl(dir, 'train.jsonl', sentimentRows(60));
  const out = join(dir, 'run');
  const args = ['finetune', '--base', base, '--data', data, '--out', out, '--epochs', '3', '--batch-size', '8', '--lr', '2e-3', '--grad-accum', '2', '--threads', '1'];
  const r = await runCli([...args, '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { best: number; labels: string[]; newlyInitialized: string[] };
  assert.deepEqual(result.labels, ['neg', 'pos']);
  assert.ok(result.best > 0.5, `best ${result.best}`);
  assert.match(r.stderr, /newly initialized: classifier\.weight, classifier\.bias/);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'report.html']) assert.ok(existsSync(join(out, file)), file);

  const bad = await runCli(['finetune', '--base', base, '--data', data, '--out', join(dir, 'bad'), '--batch-size', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--batch-size must be >= 1.*\[INVALID_INPUT\]/);
  assert.ok(!existsSync(join(dir, 'bad')));

  const help = await runCli(['finetune', '--help']);
  assert.equal(help.code, 0);
  for (const option of ['--base', '--grad-accum', '--warmup', '--freeze-layers', '--eval-every', '--patience', '--resume', '--group-by-length']) assert.ok(help.stdout.includes(option), option);
});
