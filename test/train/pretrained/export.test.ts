// Export parity: for every reference checkpoint the exported ONNX, run by transformers.js, matches the reference vectors and the training graph's forward; int8 stays close.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/graph/builder.js';
import { configureTransformers } from '../../../src/runtime/transformers.js';
import type { EncoderConfig } from '../../../src/train/pretrained/config.js';
import { buildEncoder } from '../../../src/train/pretrained/encoder-graph.js';
import { exportEncoderOnnx, exportParameterSource, writeOnnxModels } from '../../../src/train/pretrained/export.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { architectureName } from '../../../src/train/pretrained/parameters.js';
import { runGraph } from '../../helpers/run-graph.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const hf = configureTransformers();
const work = mkdtempSync(join(tmpdir(), 'geul-export-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Max abs diff allowed against the reference: fp32 as the issue asks; int8 from what was measured on these tiny random
 * encoders (classifier logits ≤ 0.024, MLM logits ≤ 0.17, last_hidden_state ≤ 0.08), with headroom.
 */
const FP32_TOLERANCE = 1e-4;
const Q8_TOLERANCE = { 'sequence-classification': 0.05, 'masked-lm': 0.25, base: 0.12 } as const;

function maxDiff(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(got.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  return worst;
}

function argmaxRows(values: ArrayLike<number>, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / width; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (values[r * width + c]! > values[r * width + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** Writes config.json (architectures for the head) and both ONNX files; returns the folder. */
async function exportFolder(name: string, config: EncoderConfig, tensors: Parameters<typeof writeOnnxModels>[2], rawConfig: Record<string, unknown>): Promise<string> {
  const dir = join(work, `${name}-${config.head}`);
  await writeOnnxModels(dir, config, tensors);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...rawConfig, architectures: [architectureName(config)] }));
  return dir;
}

/** Runs the folder through transformers.js's Auto class for the head, at `dtype`, on the reference inputs. */
async function runTransformers(dir: string, config: EncoderConfig, inputs: Record<string, number[][]>, dtype: 'fp32' | 'q8'): Promise<Float32Array> {
  const auto = config.head === 'sequence-classification' ? hf.AutoModelForSequenceClassification : config.head === 'masked-lm' ? hf.AutoModelForMaskedLM : hf.AutoModel;
  const model = await auto.from_pretrained(dir, { dtype, local_files_only: true });
  try {
    const tensor = (rows: number[][]) => new hf.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
    const feeds: Record<string, unknown> = { input_ids: tensor(inputs['input_ids']!), attention_mask: tensor(inputs['attention_mask']!) };
    if (inputs['token_type_ids']) feeds['token_type_ids'] = tensor(inputs['token_type_ids']);
    const out = (await model(feeds)) as Record<string, { data: Float32Array } | undefined>;
    return (out['logits'] ?? out['last_hidden_state'])!.data;
  } finally {
    await model.dispose();
  }
}

/** The training graph's forward (buildEncoder, all outputs) on the same inputs: what fine-tuning computes. */
async function trainingForward(config: EncoderConfig, tensors: Parameters<typeof writeOnnxModels>[2], inputs: Record<string, number[][]>): Promise<Float32Array> {
  const g = new GraphBuilder('training-forward');
  const seq = ['batch', 'seq'];
  const hasTypes = Boolean(inputs['token_type_ids']) && config.typeVocabSize > 0;
  const outputs = buildEncoder(g, config, exportParameterSource(g, config, tensors), {
    inputIds: g.input('input_ids', 'int64', seq), attentionMask: g.input('attention_mask', 'int64', seq),
    tokenTypeIds: hasTypes ? g.input('token_type_ids', 'int64', seq) : undefined,
  });
  g.output(config.head === 'base' ? outputs.lastHiddenState : outputs.logits!, 'out');
  const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(inputs['input_ids']!), attention_mask: int64(inputs['attention_mask']!) };
  if (hasTypes) feeds['token_type_ids'] = int64(inputs['token_type_ids']!);
  return (await runGraph(g, feeds))['out']!.data as Float32Array;
}

/** MLM logits [3, T, V] at the reference's two masked positions. */
function pickPositions(logits: Float32Array, positions: number[][], seqLength: number, vocab: number): Float32Array {
  return Float32Array.from(positions.flatMap(([b, p]) => Array.from(logits.subarray((b! * seqLength + p!) * vocab, (b! * seqLength + p! + 1) * vocab))));
}

const FOLDERS = ['bert-cls', 'bert-mlm', 'bert-legacy-names', 'bert-base-noprefix', 'distilbert-cls', 'roberta-cls'];

for (const name of FOLDERS) {
  test(`${name}: exported ONNX in transformers.js matches the reference (< 1e-4) and the training graph; int8 close with the same argmax`, async (t) => {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Record<string, Nested>;
    const rawConfig = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    const seqLength = inputs['input_ids']![0]!.length;
    const report: string[] = [];

    // The checkpoint's own head (classifier, MLM, or base), then the base model for embeddings.
    const heads = [...new Set([loadPretrainedEncoder(folder).config.head, 'base' as const])];
    for (const head of heads) {
      const { config, weights } = loadPretrainedEncoder(folder, head);
      const dir = await exportFolder(name, config, weights.tensors, rawConfig);
      const fp32 = await runTransformers(dir, config, inputs, 'fp32');
      const q8 = await runTransformers(dir, config, inputs, 'q8');
      const training = await trainingForward(config, weights.tensors, inputs);
      assert.ok(maxDiff(fp32, training) < 1e-5, `${name} ${head}: export vs training graph ${maxDiff(fp32, training)}`);

      let reference: number[];
      let gotFp32: Float32Array = fp32;
      let gotQ8: Float32Array = q8;
      let width: number;
      if (head === 'base') {
        reference = flat(expected['last_hidden_state']!);
        width = config.hiddenSize;
      } else if (head === 'masked-lm') {
        reference = flat(expected['logits']!);
        gotFp32 = pickPositions(fp32, expected['logits_positions'] as number[][], seqLength, config.vocabSize);
        gotQ8 = pickPositions(q8, expected['logits_positions'] as number[][], seqLength, config.vocabSize);
        width = config.vocabSize;
      } else {
        reference = flat(expected['logits']!);
        width = config.numLabels;
      }
      const fp32Diff = maxDiff(gotFp32, reference);
      const q8Diff = maxDiff(gotQ8, reference);
      report.push(`${head}: fp32 ${fp32Diff.toExponential(2)}, q8 ${q8Diff.toFixed(4)}`);
      assert.ok(fp32Diff < FP32_TOLERANCE, `${name} ${head} fp32: max abs diff ${fp32Diff}`);
      assert.ok(q8Diff < Q8_TOLERANCE[head], `${name} ${head} q8: max abs diff ${q8Diff}`);
      assert.ok(q8Diff > 0, 'the int8 model really is quantised');
      if (head !== 'base') assert.deepEqual(argmaxRows(gotQ8, width), argmaxRows(Float32Array.from(reference), width), `${name} ${head}: q8 argmax`);
    }
    t.diagnostic(`${name} max abs diff vs reference — ${report.join('; ')}`);
  });
}

test('the int8 model holds int8 weights: every weight MatMul and embedding table quantised, the file under 35 % of fp32', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!folder) return;
  const { config, weights } = loadPretrainedEncoder(folder);
  const onnx = exportEncoderOnnx(config, weights.tensors);
  // 2 layers × (q, k, v, output, intermediate, output) + pooler + classifier.
  assert.equal(onnx.quantization.matmuls, 2 * 6 + 2);
  // Word embeddings (one Gather: the pad rows' gradient stop sits on the gathered rows), positions, token types.
  assert.equal(onnx.quantization.gathers, 3);
  assert.deepEqual(onnx.inputs, ['input_ids', 'attention_mask', 'token_type_ids']);
  assert.equal(onnx.output, 'logits');
  assert.ok(onnx.quantized.byteLength < 0.35 * onnx.model.byteLength, `fp32 ${onnx.model.byteLength} B, int8 ${onnx.quantized.byteLength} B`);
});

test('xlm-roberta: the roberta-cls weights under model_type xlm-roberta export as XLMRobertaForSequenceClassification and give the same logits', async (t) => {
  const folder = sharedDataPath(t, 'reference-encoders', 'roberta-cls');
  if (!folder) return;
  const checkpoint = join(work, 'xlm-roberta-checkpoint');
  const rawConfig = { ...(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>), model_type: 'xlm-roberta', architectures: ['XLMRobertaForSequenceClassification'] };
  mkdirSync(checkpoint, { recursive: true });
  writeFileSync(join(checkpoint, 'config.json'), JSON.stringify(rawConfig));
  copyFileSync(join(folder, 'model.safetensors'), join(checkpoint, 'model.safetensors'));
  const { config, weights } = loadPretrainedEncoder(checkpoint);
  assert.equal(architectureName(config), 'XLMRobertaForSequenceClassification');
  const dir = await exportFolder('xlm-roberta', config, weights.tensors, rawConfig);
  const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
  const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Record<string, Nested>;
  const diff = maxDiff(await runTransformers(dir, config, inputs, 'fp32'), flat(expected['logits']!));
  assert.ok(diff < FP32_TOLERANCE, `max abs diff ${diff}`);
});
