// `geul finetune` from the command line: a tiny fine-tune with --json whose run folder `geul sentiment` serves at fp32
// and q8, its --help, and a bad option named as typed; the docs' NSMC walk-through (tab-separated `.txt`, `document`
// column, 0/1 labels named by --labels) whose run folder `geul eval` and the server then serve unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { post, serverConfig } from '../helpers/server.js';
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
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'report.html', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) assert.ok(existsSync(join(out, file)), file);

  // The run folder is a transformers.js model: geul's classify task serves it unchanged, fp32 and int8 agreeing.
  const scores: Record<string, Record<string, number>> = {};
  for (const dtype of ['fp32', 'q8']) {
    const s = await runCli(['sentiment', '--model', out, '--dtype', dtype, '--json', 'a great excellent film'], { timeoutMs: 60_000 });
    assert.equal(s.code, 0, s.stderr);
    const [labels] = jsonLines(s.stdout) as { label: string; score: number }[][];
    scores[dtype] = Object.fromEntries(labels!.map((l) => [l.label, l.score]));
  }
  assert.deepEqual(Object.keys(scores['fp32']!).sort(), ['neg', 'pos']);
  for (const label of ['neg', 'pos']) assert.ok(Math.abs(scores['fp32']![label]! - scores['q8']![label]!) < 0.05, `${label}: fp32 ${scores['fp32']![label]} vs q8 ${scores['q8']![label]}`);

  const bad = await runCli(['finetune', '--base', base, '--data', data, '--out', join(dir, 'bad'), '--batch-size', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--batch-size must be >= 1.*\[INVALID_INPUT\]/);
  assert.ok(!existsSync(join(dir, 'bad')));

  const help = await runCli(['finetune', '--help']);
  assert.equal(help.code, 0);
  for (const option of ['--base', '--grad-accum', '--warmup', '--freeze-layers', '--eval-every', '--patience', '--resume', '--group-by-length']) assert.ok(help.stdout.includes(option), option);
});

/** NSMC's layout: `id<TAB>document<TAB>label` with 0/1 labels, a header line, Korean text. */
function nsmcFile(path: string, rows: { text: string; label: string }[], start: number): string {
  const lines = rows.map((r, i) => `${start + i}\t${r.text} 영화\t${r.label === 'pos' ? 1 : 0}`);
  writeFileSync(path, ['id\tdocument\tlabel', ...lines].join('\n') + '\n');
  return path;
}

test('the NSMC walk-through: tsv .txt with --text document --labels negative,positive; geul eval and the server serve the run folder', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const dir = mkdtempSync(join(tmpdir(), 'geul-ft-nsmc-'));
  const train = nsmcFile(join(dir, 'ratings_train.txt'), sentimentRows(60), 1000);
  const valid = nsmcFile(join(dir, 'ratings_test.txt'), sentimentRows(24, ['neg', 'pos'], 7), 5000);
  mkdirSync(join(dir, 'models'));
  const out = join(dir, 'models', 'nsmc-tiny');
  const dataArgs = ['--format', 'tsv', '--text', 'document', '--label', 'label', '--labels', 'negative,positive'];
  const r = await runCli(['finetune', '--base', base, '--data', train, '--valid', valid, ...dataArgs, '--out', out,
    '--epochs', '3', '--batch-size', '8', '--lr', '2e-3', '--max-length', '32', '--threads', '1', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { labels: string[] }).labels, ['negative', 'positive']);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
  assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });

  // geul eval on the validation file reproduces what the run measured for its best model (metrics.json).
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { accuracy: number; confusion: number[][] };
  const e = await runCli(['eval', '--model', out, '--data', valid, ...dataArgs, '--json'], { timeoutMs: 60_000 });
  assert.equal(e.code, 0, e.stderr);
  const [scored] = jsonLines(e.stdout) as { accuracy: number; confusion: number[][]; label_map: Record<string, string> }[];
  assert.deepEqual(scored.confusion, metrics.confusion);
  assert.ok(Math.abs(scored.accuracy - metrics.accuracy) < 1e-12, `eval ${scored.accuracy} vs run ${metrics.accuracy}`);

  // The server, with the run folder in its models folder, answers as `geul sentiment` does.
  const texts = ['a great excellent film 영화', 'an awful boring film 영화'];
  const s = await runCli(['sentiment', '--model', out, '--json', ...texts], { timeoutMs: 60_000 });
  assert.equal(s.code, 0, s.stderr);
  const cli = jsonLines(s.stdout) as { label: string; score: number }[][];
  const app = await buildServer(serverConfig({ modelsDir: join(dir, 'models'), defaults: { classify: 'nsmc-tiny' } }));
  try {
    const res = await post(app, '/v1/classify', { inputs: texts });
    assert.equal(res.status, 200, res.body);
    const served = JSON.parse(res.body) as { label: string; score: number }[][];
    for (const [i, ranked] of served.entries()) {
      const expected = Object.fromEntries(cli[i]!.map((l) => [l.label, l.score]));
      assert.deepEqual(ranked.map((l) => l.label).sort(), ['negative', 'positive']);
      for (const l of ranked) assert.ok(Math.abs(l.score - expected[l.label]!) < 1e-5, `${texts[i]} ${l.label}: server ${l.score} vs cli ${expected[l.label]}`);
    }
  } finally {
    await app.close();
  }
});
