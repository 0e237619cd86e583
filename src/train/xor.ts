// The XOR demonstration: a single perceptron cannot separate XOR, a two-layer MLP can.
import * as ort from 'onnxruntime-node';
import { mlp } from './models/mlp.js';
import { Trainer } from './trainer.js';

export interface XorResult {
  accuracy: number;
  loss: number;
  steps: number;
}

const X = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
const Y = BigInt64Array.of(0n, 1n, 1n, 0n);

async function fit(hidden: number[], steps: number, seed: number): Promise<XorResult> {
  const trainer = await Trainer.create(mlp({ features: 2, hidden, classes: 2, activation: 'tanh' }), { name: 'adam', lr: 0.05 }, { seed, threads: 1 });
  const x = new ort.Tensor('float32', X, [4, 2]);
  let loss = NaN;
  for (let i = 0; i < steps; i++) loss = (await trainer.step({ x }, Y)).loss;
  const logits = await trainer.predict({ x });
  await trainer.release();
  let correct = 0;
  for (let i = 0; i < 4; i++) if (Number(logits[i * 2 + 1] > logits[i * 2]) === Number(Y[i])) correct++;
  return { accuracy: correct / 4, loss, steps };
}

/** Trains both models on the four XOR points (full batch, Adam). */
export async function xorDemo(options: { steps?: number; seed?: number } = {}): Promise<{ perceptron: XorResult; mlp: XorResult }> {
  const steps = options.steps ?? 400;
  const seed = options.seed ?? 1;
  return { perceptron: await fit([], steps, seed), mlp: await fit([8], steps, seed) };
}
