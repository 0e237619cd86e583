// The playground's sequence race: a plain RNN, an LSTM and a GRU learn "the class is the first token" side by side,
// trained step by step on the same batches by geul's Trainer, reporting each cell's loss and accuracy every few steps.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../core/random.js';
import { recurrentClassifier, type TextCell } from '../models/text.js';
import { Trainer } from '../trainer.js';

export const SEQUENCE_CELLS = ['rnn', 'lstm', 'gru'] as const satisfies readonly TextCell[];
export type SequenceCell = (typeof SEQUENCE_CELLS)[number];

/** Token ids: 0 padding, 1 and 2 the class markers (first token), 3 … VOCAB − 1 the noise that follows. */
export const FIRST_TOKEN_VOCAB = 12;
const MARKERS = 2;

export interface SequenceSpec {
  /** Longest sequence; each one is between half of it and all of it long, so the marker is at no fixed distance. */
  length: number;
  hidden: number;
  lr: number;
  batchSize: number;
  steps: number;
  /** Report every this many steps. */
  every: number;
  seed: number;
}

export interface CellProgress {
  /** Mean cross-entropy on the held-out sequences. */
  loss: number;
  /** Share of the held-out sequences classified right. */
  accuracy: number;
}

export type SequenceProgress = { step: number } & Record<SequenceCell, CellProgress>;

export interface SequenceBatch {
  features: { input_ids: ort.Tensor; attention_mask: ort.Tensor };
  labels: BigInt64Array;
}

/** Held-out sequences the accuracy is measured on (the training batches are fresh draws every step). */
export const SEQUENCE_EVAL_SIZE = 256;

/**
 * `n` right-padded sequences of the first-token task: a marker (1 for class 0, 2 for class 1), then random noise
 * tokens, ⌈length / 2⌉ … length tokens in all.
 */
export function firstTokenBatch(rng: Rng, n: number, length: number): SequenceBatch {
  const ids = new BigInt64Array(n * length);
  const mask = new BigInt64Array(n * length);
  const labels = new BigInt64Array(n);
  const shortest = Math.ceil(length / 2);
  for (let b = 0; b < n; b++) {
    const label = rng.int(2);
    labels[b] = BigInt(label);
    const real = shortest + rng.int(length - shortest + 1);
    for (let t = 0; t < real; t++) {
      ids[b * length + t] = BigInt(t === 0 ? 1 + label : 1 + MARKERS + rng.int(FIRST_TOKEN_VOCAB - 1 - MARKERS));
      mask[b * length + t] = 1n;
    }
  }
  return {
    features: { input_ids: new ort.Tensor('int64', ids, [n, length]), attention_mask: new ort.Tensor('int64', mask, [n, length]) },
    labels,
  };
}

/** One single-layer classifier per cell, same width and embedding size, last-state pooling. */
function cellModel(cell: SequenceCell, spec: SequenceSpec) {
  return recurrentClassifier({ vocab: FIRST_TOKEN_VOCAB, embedding: 8, hidden: spec.hidden, classes: 2, cell, memory: spec.length });
}

/**
 * Trains the three cells in lockstep on the same batches and reports. Each step awaits onnxruntime (off the event
 * loop) and the loop yields to other requests after each report; aborting `signal` stops it within a step.
 */
export async function* sequenceRun(spec: SequenceSpec, signal?: AbortSignal, onStep?: () => void): AsyncGenerator<SequenceProgress> {
  const trainers: Trainer[] = [];
  try {
    for (const cell of SEQUENCE_CELLS) {
      trainers.push(await Trainer.create(cellModel(cell, spec), { name: 'adam', lr: spec.lr, clipNorm: 5 }, { seed: spec.seed, threads: 1, fetchLogits: false }));
    }
    const held = firstTokenBatch(new Rng(spec.seed + 1), SEQUENCE_EVAL_SIZE, spec.length);
    const report = async (step: number): Promise<SequenceProgress> => {
      const out: Record<string, CellProgress | number> = { step };
      for (let c = 0; c < SEQUENCE_CELLS.length; c++) out[SEQUENCE_CELLS[c]] = score(await trainers[c].predict(held.features), held.labels);
      return out as SequenceProgress;
    };
    const rng = new Rng(spec.seed + 2);
    yield await report(0);
    for (let step = 1; step <= spec.steps; step++) {
      if (signal?.aborted) return;
      const batch = firstTokenBatch(rng, spec.batchSize, spec.length);
      for (const trainer of trainers) await trainer.step(batch.features, batch.labels);
      onStep?.();
      if (step % spec.every === 0 || step === spec.steps) {
        if (signal?.aborted) return;
        yield await report(step);
        await yieldToLoop();
      }
    }
  } finally {
    await Promise.all(trainers.map((t) => t.release()));
  }
}

function score(logits: Float32Array, labels: BigInt64Array): CellProgress {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const p1 = 1 / (1 + Math.exp(logits[i * 2] - logits[i * 2 + 1]));
    const label = Number(labels[i]);
    loss -= Math.log(Math.max(label === 1 ? p1 : 1 - p1, 1e-7));
    if (Number(p1 > 0.5) === label) correct++;
  }
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}
