// `npx tsx bench/export.ts [--base]`: `geul export`'s int8 model against its fp32 model, run by transformers.js on the same inputs.
//
// For BERT-mini (4 × 256) and BERT-small (4 × 512) shaped classifiers (BERT-base 12 × 768 with --base), random
// weights, vocabulary 30522: export time, file sizes, and the forward time of a batch of 8 × 128 tokens at fp32 and
// q8 in alternating rounds (fp32, q8, fp32, q8, …; median per side), with the load average around each shape.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng } from '../src/core/random.js';
import type { WeightTensor } from '../src/core/weights/tensor.js';
import { configureTransformers } from '../src/runtime/transformers.js';
import { parseEncoderConfig } from '../src/train/pretrained/config.js';
import { writeOnnxModels } from '../src/train/pretrained/export.js';
import { architectureName, encoderParameterSpec } from '../src/train/pretrained/parameters.js';
import { machine, median, timeIt, writeReadmeSection } from './common.js';

const OUT = resolve('bench', 'out', 'export');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 8;
const SEQ = 128;
const hf = configureTransformers();

interface Shape { name: string; layers: number; hidden: number; heads: number; ffn: number }
const SHAPES: Shape[] = [
  { name: 'BERT-mini', layers: 4, hidden: 256, heads: 4, ffn: 1024 },
  { name: 'BERT-small', layers: 4, hidden: 512, heads: 8, ffn: 2048 },
  ...(process.argv.includes('--base') ? [{ name: 'BERT-base', layers: 12, hidden: 768, heads: 12, ffn: 3072 }] : []),
];

/** A random BertForSequenceClassification checkpoint (HF names and layout) of `shape`, written as an export folder. */
async function exportShape(shape: Shape): Promise<{ dir: string; exportMs: number }> {
  const raw = {
    model_type: 'bert', architectures: ['BertForSequenceClassification'], vocab_size: 30522, hidden_size: shape.hidden,
    num_hidden_layers: shape.layers, num_attention_heads: shape.heads, intermediate_size: shape.ffn, max_position_embeddings: 512,
    type_vocab_size: 2, id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' },
  };
  const config = parseEncoderConfig(raw, shape.name);
  const rng = new Rng(7);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, dims] of encoderParameterSpec(config).parameters) {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = name.endsWith('LayerNorm.weight') ? new Float32Array(size).fill(1) : rng.normalArray(size, name.endsWith('.bias') ? 0.02 : 0.05);
    tensors.set(name, { shape: dims, data });
  }
  const dir = join(OUT, shape.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const exportMs = await timeIt(() => writeOnnxModels(dir, config, tensors));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, architectures: [architectureName(config)] }));
  return { dir, exportMs };
}

async function benchShape(shape: Shape): Promise<string> {
  const loadBefore = loadavg()[0]!;
  const { dir, exportMs } = await exportShape(shape);
  const rng = new Rng(11);
  const ids = BigInt64Array.from({ length: BATCH * SEQ }, () => BigInt(1000 + rng.int(28000)));
  const feeds = {
    input_ids: new hf.Tensor('int64', ids, [BATCH, SEQ]),
    attention_mask: new hf.Tensor('int64', new BigInt64Array(BATCH * SEQ).fill(1n), [BATCH, SEQ]),
    token_type_ids: new hf.Tensor('int64', new BigInt64Array(BATCH * SEQ), [BATCH, SEQ]),
  };
  const models = {
    fp32: await hf.AutoModelForSequenceClassification.from_pretrained(dir, { dtype: 'fp32', local_files_only: true }),
    q8: await hf.AutoModelForSequenceClassification.from_pretrained(dir, { dtype: 'q8', local_files_only: true }),
  };
  const logits: Record<string, Float32Array> = {};
  for (const [dtype, model] of Object.entries(models)) logits[dtype] = ((await model(feeds)) as { logits: { data: Float32Array } }).logits.data; // warm-up
  const times: Record<string, number[]> = { fp32: [], q8: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [dtype, model] of Object.entries(models)) times[dtype]!.push(await timeIt(() => model(feeds)));
  }
  for (const model of Object.values(models)) await model.dispose();
  let worst = 0;
  for (let i = 0; i < logits['fp32']!.length; i++) worst = Math.max(worst, Math.abs(logits['fp32']![i]! - logits['q8']![i]!));
  const size = (file: string) => statSync(join(dir, 'onnx', file)).size / 1e6;
  const [fp32, q8] = [median(times['fp32']!), median(times['q8']!)];
  const loadAfter = loadavg()[0]!;
  const row = `| ${shape.name} (${shape.layers} × ${shape.hidden}) | ${(exportMs / 1000).toFixed(1)} | ${size('model.onnx').toFixed(1)} | ${size('model_quantized.onnx').toFixed(1)} | ${fp32.toFixed(0)} | ${q8.toFixed(0)} | ${(fp32 / q8).toFixed(2)} | ${worst.toFixed(4)} | ${loadBefore.toFixed(1)}–${loadAfter.toFixed(1)} |`;
  console.log(row);
  return row;
}

const header = [
  '| shape | export s | model.onnx MB | model_quantized.onnx MB | fp32 ms / batch | q8 ms / batch | fp32 ÷ q8 time | max abs logit diff | load avg |',
  '|---|---|---|---|---|---|---|---|---|',
];
console.log(header.join('\n'));
const rows: string[] = [];
for (const shape of SHAPES) rows.push(await benchShape(shape));
writeReadmeSection('Export: int8 against fp32', `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Rerun: \`npx tsx bench/export.ts\` (\`--base\` adds BERT-base; \`BENCH_ROUNDS\`, default 5).

\`geul export\`'s two files for random-weight BertForSequenceClassification checkpoints (vocabulary 30522, 2 labels), run
by transformers.js (\`AutoModelForSequenceClassification\`, dtype fp32 and q8) on one batch of ${BATCH} × ${SEQ} tokens;
median forward time over ${ROUNDS} alternating rounds (fp32, q8, fp32, …) after one warm-up each; "fp32 ÷ q8 time" > 1
means int8 is faster. "export s" is \`writeOnnxModels\` (graph, quantisation, both files). Random weights say nothing
about int8 accuracy on real checkpoints; that is measured against the reference vectors in docs/fine-tuning.md. The load
average (start–end of each shape) is reported because the machine may be shared: absolute times move with it, the ratio
of neighbouring alternating runs much less.

${[...header, ...rows].join('\n')}`);
