// `geul pretrain` from the command line: a tiny run with --json, its folder (fine-tuned and served by fill-mask),
// --help, and errors naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_CORPUS } from '../../src/fixtures/sample-corpus.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-pretrain-cli-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };
const texts = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko];
writeFileSync(env.GEUL_CONFIG, '{}');
writeFileSync(join(work, 'corpus.txt'), Array.from({ length: 60 }, (_, i) => `${texts[i % texts.length]} ${texts[(i * 3 + 1) % texts.length]}`).join('\n'));

test('geul pretrain trains a tiny encoder, prints its held-out scores as JSON, and geul finetune takes its folder', async () => {
  const out = join(work, 'run');
  const r = await runCli(['pretrain', '--size', 'tiny', '--vocab-size', '300', '--data', join(work, 'corpus.txt'), '--steps', '4', '--batch-size', '4', '--max-length', '24', '--eval-every', '2', '--out', out, '--json'], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const [result] = jsonLines(r.stdout) as { steps: number; reason: string; history: { step: number; loss: number }[] }[];
  assert.equal(result.steps, 4);
  assert.equal(result.reason, 'completed');
  assert.deepEqual(result.history.map((h) => h.step), [2, 4]);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'metrics.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) assert.ok(existsSync(join(out, file)), file);
  // The folder is a transformers.js fill-mask model too.
  const filled = await runCli(['fill-mask', '--model', out, '--json', 'a [MASK] film'], { env, timeoutMs: 60_000 });
  assert.equal(filled.code, 0, filled.stderr);
  const [candidates] = jsonLines(filled.stdout) as { token_str: string; score: number }[][];
  assert.ok(candidates.length > 0 && candidates.every((c) => c.score >= 0 && c.score <= 1), filled.stdout);
  // The loop: `geul finetune --base runs/<id>` takes the pre-trained folder as it is.
  const rows = Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `${i % 2 ? 'a great film' : 'a boring film'} ${texts[i % texts.length]}`, label: i % 2 }));
  writeFileSync(join(work, 'labelled.jsonl'), `${rows.join('\n')}\n`);
  const tuned = await runCli(['finetune', '--base', out, '--data', join(work, 'labelled.jsonl'), '--epochs', '1', '--batch-size', '8', '--out', join(work, 'tuned'), '--json'], { env, timeoutMs: 120_000 });
  assert.equal(tuned.code, 0, tuned.stderr);
  assert.ok(existsSync(join(work, 'tuned', 'model.safetensors')));
  // docs/fine-tuning.md "Export": a pretrain folder exports for fill-mask, a finetune folder for classify.
  for (const [model, task] of [[out, 'fill-mask'], [join(work, 'tuned'), 'classify']] as const) {
    const dir = join(work, `exported-${task}`);
    const exported = await runCli(['export', '--model', model, '--task', task, '--out', dir], { env, timeoutMs: 120_000 });
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(existsSync(join(dir, 'onnx', 'model.onnx')) && existsSync(join(dir, 'tokenizer.json')), task);
  }
});

test('geul pretrain --help documents the options; bad values name the flag', async () => {
  const help = await runCli(['pretrain', '--help'], { env });
  assert.equal(help.code, 0);
  for (const flag of ['--size', '--base', '--vocab-size', '--tokenizer', '--whole-word', '--max-length', '--resume', '--steps']) assert.ok(help.stdout.includes(flag), flag);
  const bad = await runCli(['pretrain', '--size', 'tiny', '--vocab-size', '300', '--data', join(work, 'corpus.txt'), '--batch-size', '0', '--out', join(work, 'bad')], { env });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--batch-size/);
  const both = await runCli(['pretrain', '--size', 'tiny', '--base', work, '--data', join(work, 'corpus.txt'), '--out', join(work, 'bad')], { env });
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /--size.*--base/);
  assert.ok(!existsSync(join(work, 'bad')));
});
