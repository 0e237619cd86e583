// One SGD step, one AdamW step and three AdamW steps on the encoder graph (optimizer of src/train/optim.ts) match torch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { gradients } from '../../../src/graph/autodiff.js';
import { GraphBuilder, type Value } from '../../../src/graph/builder.js';
import { softmaxCrossEntropy } from '../../../src/graph/losses.js';
import { emitUpdate, stateSlots, stepScalars, type OptimizerConfig } from '../../../src/train/optim.js';
import { buildEncoder } from '../../../src/train/pretrained/encoder-graph.js';
import { loadPretrainedEncoder, type PretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { maskedLmLoss, maskedTargets } from '../../../src/train/pretrained/mlm-loss.js';
import { graphSession } from '../../helpers/run-graph.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

type Nested = number | Nested[];
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const int64 = (rows: number[] | number[][]) => {
  const values = (rows as Nested[]).flatMap(flat);
  const dims = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
};

interface StepBlock { loss_after: number; params_after: Record<string, Nested>; small_grad_indices?: Record<string, number[]>; loss_before_each_step?: number[] }

/** A training step graph: every parameter and optimizer state is an input; new ones and the loss are outputs. */
function stepGraph(model: PretrainedEncoder, optimizer: OptimizerConfig, hasTypes: boolean) {
  const { config, spec } = model;
  const g = new GraphBuilder('step');
  const params = new Map<string, Value>();
  const param = (name: string, shape: readonly number[]) => {
    let value = params.get(name);
    if (!value) params.set(name, (value = g.input(`p/${name}`, 'float32', shape)));
    return value;
  };
  const seq = ['batch', 'seq'];
  // Masked LM: the head runs at the masked positions only (mlm-loss.ts).
  const masked = config.head === 'masked-lm' ? maskedTargets(g, g.input('labels', 'int64', seq)) : undefined;
  const out = buildEncoder(g, config, param, {
    inputIds: g.input('input_ids', 'int64', seq),
    attentionMask: g.input('attention_mask', 'int64', seq),
    tokenTypeIds: hasTypes ? g.input('token_type_ids', 'int64', seq) : undefined,
    maskedPositions: masked?.positions,
  });
  const loss = config.head === 'base'
    ? g.reduceMean(g.mul(out.poolerOutput!, out.poolerOutput!), undefined, false)
    : config.head === 'masked-lm'
      ? maskedLmLoss(g, out.logits!, masked!.targets, config.vocabSize)
      : softmaxCrossEntropy(g, out.logits!, g.input('labels', 'int64', ['batch']));
  const names = [...spec.parameters.keys()];
  const values = names.map((n) => params.get(n)!);
  const grads = gradients(g, loss, values);
  const slots = stateSlots(optimizer);
  const updates = values.map((p, i) => ({ param: p, grad: grads[i]!, states: slots.map((s) => g.input(`s/${s}/${names[i]}`, 'float32', spec.parameters.get(names[i]!)!)) }));
  const step = { lr: g.input('opt/lr', 'float32', []), eps: g.input('opt/eps', 'float32', []), decay: g.input('opt/decay', 'float32', []) };
  const next = emitUpdate(g, optimizer, updates, step);
  g.output(loss, 'loss', { shape: [] });
  next.params.forEach((v, i) => g.output(v, `new/p/${names[i]}`));
  next.states.forEach((list, i) => list.forEach((v, k) => g.output(v, `new/s/${slots[k]}/${names[i]}`)));
  return { g, names, slots };
}

/** Runs `steps` optimizer steps; returns the loss before each step, the loss after, and the final parameters. */
async function train(model: PretrainedEncoder, optimizer: OptimizerConfig, steps: number, batch: Record<string, ort.Tensor>, hasTypes: boolean) {
  const { g, names, slots } = stepGraph(model, optimizer, hasTypes);
  const session = await graphSession(g);
  try {
    const params = new Map<string, Float32Array>(names.map((n) => [n, model.weights.tensors.get(n)!.data]));
    const states = new Map<string, Float32Array>(names.flatMap((n) => slots.map((s) => [`${s}/${n}`, new Float32Array(params.get(n)!.length)] as const)));
    const losses: number[] = [];
    for (let t = 0; t <= steps; t++) {
      const [lr, eps, decay] = stepScalars(optimizer, t, optimizer.lr);
      const feeds: Record<string, ort.Tensor> = { ...batch, 'opt/lr': new ort.Tensor('float32', [lr!], []), 'opt/eps': new ort.Tensor('float32', [eps!], []), 'opt/decay': new ort.Tensor('float32', [decay!], []) };
      for (const n of names) feeds[`p/${n}`] = new ort.Tensor('float32', params.get(n)!, model.spec.parameters.get(n)!);
      for (const [key, value] of states) feeds[`s/${key}`] = new ort.Tensor('float32', value, model.spec.parameters.get(key.slice(key.indexOf('/') + 1))!);
      const out = await session.run(feeds);
      losses.push((out['loss']!.data as Float32Array)[0]!);
      if (t === steps) break; // the last run only measures the loss after the final step
      for (const n of names) params.set(n, out[`new/p/${n}`]!.data as Float32Array);
      for (const key of states.keys()) states.set(key, out[`new/s/${key}`]!.data as Float32Array);
    }
    return { lossesBefore: losses.slice(0, steps), lossAfter: losses[steps]!, params };
  } finally {
    await session.release();
  }
}

function checkParams(name: string, block: StepBlock, params: Map<string, Float32Array>, tolerance: number, smallTolerance = tolerance) {
  for (const [key, expectedNested] of Object.entries(block.params_after)) {
    const expected = flat(expectedNested);
    const got = params.get(key)!;
    const small = new Set(block.small_grad_indices?.[key] ?? []);
    expected.forEach((e, i) => {
      const allowed = small.has(i) ? smallTolerance : tolerance;
      assert.ok(Math.abs(got[i]! - e) <= allowed, `${name} ${key}[${i}]: ${got[i]} vs ${e} (allowed ${allowed})`);
    });
  }
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const FOLDERS = ['bert-cls', 'bert-mlm', 'bert-legacy-names', 'bert-base-noprefix', 'distilbert-cls', 'roberta-cls'];

for (const name of FOLDERS) {
  test(`${name}: SGD, AdamW and three AdamW steps reproduce torch's parameters and losses`, async (t) => {
    const folder = sharedDataPath(t, 'reference-encoders', name);
    if (!folder) return;
    const inputs = JSON.parse(readFileSync(join(folder, 'inputs.json'), 'utf8')) as Record<string, number[][]>;
    const reference = JSON.parse(readFileSync(join(folder, 'sgd_step.json'), 'utf8')) as { sgd: StepBlock; adamw: StepBlock; adamw_3_steps: StepBlock };
    const model = loadPretrainedEncoder(folder);
    const hasTypes = Boolean(inputs['token_type_ids']);
    const batch: Record<string, ort.Tensor> = { input_ids: int64(inputs['input_ids']!), attention_mask: int64(inputs['attention_mask']!) };
    if (hasTypes) batch['token_type_ids'] = int64(inputs['token_type_ids']!);
    if (model.config.head !== 'base') batch['labels'] = int64(inputs['labels']!);

    const sgd = await train(model, { name: 'sgd', lr: 0.1 }, 1, batch, hasTypes);
    checkParams(`${name} sgd`, reference.sgd, sgd.params, 2e-6);
    assert.ok(relative(sgd.lossAfter, reference.sgd.loss_after) <= 1e-5, `${name} sgd loss ${sgd.lossAfter} vs ${reference.sgd.loss_after}`);

    const adamw: OptimizerConfig = { name: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const one = await train(model, adamw, 1, batch, hasTypes);
    checkParams(`${name} adamw`, reference.adamw, one.params, 2e-6, 2e-3);
    assert.ok(relative(one.lossAfter, reference.adamw.loss_after) <= 1e-5, `${name} adamw loss ${one.lossAfter} vs ${reference.adamw.loss_after}`);

    const three = await train(model, adamw, 3, batch, hasTypes);
    checkParams(`${name} adamw x3`, reference.adamw_3_steps, three.params, 1e-5);
    reference.adamw_3_steps.loss_before_each_step!.forEach((l, i) => assert.ok(relative(three.lossesBefore[i]!, l) <= 1e-5, `${name} adamw x3 loss ${i}`));
    assert.ok(relative(three.lossAfter, reference.adamw_3_steps.loss_after) <= 1e-5, `${name} adamw x3 loss after`);
  });
}
