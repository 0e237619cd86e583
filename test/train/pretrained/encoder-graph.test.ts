// The encoder graph reproduces the reference forward outputs (HF semantics) of all six checkpoints within 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/graph/builder.js';
import { buildEncoder } from '../../../src/train/pretrained/encoder-graph.js';
import { initializerSource, loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { runGraph } from '../../helpers/run-graph.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);

/** Max |got − expected| over two equally long lists. */
function maxDiff(got: ArrayLike<number>, expected: readonly number[]): number {
  assert.equal(got.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  return worst;
}

const FOLDERS = ['bert-cls', 'bert-mlm', 'bert-legacy-names', 'bert-base-noprefix', 'distilbert-cls', 'roberta-cls'];

for (const name of FOLDERS) {
  test(`${name}: embeddings, last hidden state, pooler and logits match the reference within 1e-5`, async (t) => {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Record<string, Nested>;
    const { config, weights } = loadPretrainedEncoder(folder);

    const g = new GraphBuilder(name);
    const seq = ['batch', 'seq'];
    const hasTypes = Boolean(inputs['token_type_ids']);
    const outputs = buildEncoder(g, config, initializerSource(g, weights.tensors), {
      inputIds: g.input('input_ids', 'int64', seq),
      attentionMask: g.input('attention_mask', 'int64', seq),
      tokenTypeIds: hasTypes ? g.input('token_type_ids', 'int64', seq) : undefined,
    });
    g.output(outputs.embeddingOutput, 'embedding_output');
    g.output(outputs.lastHiddenState, 'last_hidden_state');
    if (outputs.poolerOutput) g.output(outputs.poolerOutput, 'pooler_output');
    if (outputs.logits) g.output(outputs.logits, 'logits');

    const feeds: Record<string, ort.Tensor> = { input_ids: int64(inputs['input_ids']!), attention_mask: int64(inputs['attention_mask']!) };
    if (hasTypes) feeds['token_type_ids'] = int64(inputs['token_type_ids']!);
    const got = await runGraph(g, feeds);

    const check = (key: string, values: ArrayLike<number>) => {
      const diff = maxDiff(values, flat(expected[key]!));
      assert.ok(diff < 1e-5, `${name} ${key}: max abs diff ${diff}`);
    };
    check('embedding_output', got['embedding_output']!.data as Float32Array);
    check('last_hidden_state', got['last_hidden_state']!.data as Float32Array);
    assert.equal(Boolean(got['pooler_output']), 'pooler_output' in expected, `${name} pooler`);
    if (got['pooler_output']) check('pooler_output', got['pooler_output'].data as Float32Array);
    if (!('logits' in expected)) return;
    const logits = got['logits']!;
    if (config.head === 'masked-lm') {
      const [, seqLength, vocab] = logits.dims as [number, number, number];
      const data = logits.data as Float32Array;
      const picked = (expected['logits_positions'] as number[][]).flatMap(([b, pos]) => Array.from(data.subarray((b! * seqLength + pos!) * vocab, (b! * seqLength + pos! + 1) * vocab)));
      check('logits', picked);
    } else {
      check('logits', logits.data as Float32Array);
    }
  });
}
