// A playground training run: a perceptron or MLP on a 2-D toy set, trained step by step by geul's Trainer, reporting
// the loss, the accuracy and the decision boundary (class-1 probability on a lattice) every few steps.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../core/random.js';
import { mlp, type Activation } from '../models/mlp.js';
import type { OptimizerName } from '../optim.js';
import { Trainer } from '../trainer.js';
import { lattice, makeDataset, type DatasetName } from './datasets.js';

export interface PlaygroundSpec {
  dataset: DatasetName;
  points: number;
  noise: number;
  seed: number;
  model: 'perceptron' | 'mlp';
  /** Hidden layers of the MLP (the perceptron has none). */
  layers: number;
  width: number;
  activation: Activation;
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  steps: number;
  /** Report every this many steps. */
  every: number;
  /** Side of the decision-boundary lattice. */
  grid: number;
}

export interface PlaygroundData {
  /** Point coordinates, [x0, y0, x1, y1, …] in [-1, 1]². */
  x: number[];
  y: number[];
}

export interface PlaygroundProgress {
  step: number;
  /** Mean cross-entropy over all points. */
  loss: number;
  /** Share of points classified right. */
  accuracy: number;
  /** P(class 1) on the grid × grid lattice, row-major from the top-left corner (-1, 1), two decimals. */
  grid: number[];
}

/**
 * Trains and reports. Each step awaits its onnxruntime run (which runs off the event loop) and the loop yields to
 * other requests every few steps, so a run never holds the server for long; aborting `signal` stops it within a step.
 */
export async function* playgroundRun(spec: PlaygroundSpec, signal?: AbortSignal, onStep?: () => void): AsyncGenerator<PlaygroundProgress> {
  const { x, y } = makeDataset(spec.dataset, spec.points, spec.noise, spec.seed);
  const hidden = spec.model === 'perceptron' ? [] : Array.from({ length: spec.layers }, () => spec.width);
  const model = mlp({ features: 2, hidden, classes: 2, activation: spec.activation });
  const trainer = await Trainer.create(model, { name: spec.optimizer, lr: spec.lr, momentum: spec.optimizer === 'sgd' ? 0.9 : undefined }, { seed: spec.seed, threads: 1, fetchLogits: false });
  try {
    const lat = lattice(spec.grid);
    // One evaluation batch: the points, then the lattice.
    const evalX = new Float32Array(x.length + lat.length);
    evalX.set(x);
    evalX.set(lat, x.length);
    const evalTensor = new ort.Tensor('float32', evalX, [evalX.length / 2, 2]);
    const report = async (step: number): Promise<PlaygroundProgress> => summarise(step, await trainer.predict({ x: evalTensor }), y, spec.grid);
    const batch = Math.min(spec.batchSize, spec.points);
    const order = Array.from({ length: spec.points }, (_, i) => i);
    const rng = new Rng(spec.seed + 1);
    const bx = new Float32Array(batch * 2);
    const by = new BigInt64Array(batch);
    let cursor = spec.points;
    yield await report(0);
    for (let step = 1; step <= spec.steps; step++) {
      if (signal?.aborted) return;
      // Epochs over a fresh shuffle; the batch buffers are refilled, not reallocated.
      for (let b = 0; b < batch; b++) {
        if (cursor >= spec.points) {
          shuffle(order, rng);
          cursor = 0;
        }
        const i = order[cursor++];
        bx[b * 2] = x[i * 2];
        bx[b * 2 + 1] = x[i * 2 + 1];
        by[b] = BigInt(y[i]);
      }
      await trainer.step({ x: new ort.Tensor('float32', bx, [batch, 2]) }, by);
      onStep?.();
      if (step % spec.every === 0 || step === spec.steps) {
        if (signal?.aborted) return;
        yield await report(step);
        await yieldToLoop();
      }
    }
  } finally {
    await trainer.release();
  }
}

export function datasetOf(spec: Pick<PlaygroundSpec, 'dataset' | 'points' | 'noise' | 'seed'>): PlaygroundData {
  const { x, y } = makeDataset(spec.dataset, spec.points, spec.noise, spec.seed);
  return { x: Array.from(x, round3), y: Array.from(y) };
}

function summarise(step: number, logits: Float32Array, y: Uint8Array, size: number): PlaygroundProgress {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    const p1 = probability(logits[i * 2], logits[i * 2 + 1]);
    loss -= Math.log(Math.max(y[i] === 1 ? p1 : 1 - p1, 1e-7));
    if (Number(p1 > 0.5) === y[i]) correct++;
  }
  const grid = new Array<number>(size * size);
  for (let k = 0; k < grid.length; k++) {
    const j = y.length + k;
    grid[k] = Math.round(probability(logits[j * 2], logits[j * 2 + 1]) * 100) / 100;
  }
  return { step, loss: loss / y.length, accuracy: correct / y.length, grid };
}

/** Softmax over two logits: P(class 1). */
const probability = (l0: number, l1: number) => 1 / (1 + Math.exp(l0 - l1));
const round3 = (v: number) => Math.round(v * 1000) / 1000;

function shuffle(a: number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
}
