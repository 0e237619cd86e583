// nn.RNN, nn.GRU, nn.LSTM (one layer, one direction): the Scan layers of src/graph with their backprop through time.
import { geulError } from '../../core/errors.js';
import type { GraphBuilder, Value } from '../../graph/builder.js';
import { lstm } from '../../graph/lstm.js';
import { recurrent, type RecurrentWeights } from '../../graph/rnn.js';
import { defaultGenerator, fromHost, type Generator } from '../create.js';
import { recordOp, type OutputType } from '../lazy.js';
import { Tensor } from '../tensor.js';
import { Module, Parameter } from './module.js';

type Kind = 'rnn' | 'gru' | 'lstm';
const GATES: Record<Kind, number> = { rnn: 1, gru: 3, lstm: 4 };

export interface RecurrentOptions {
  /** Inputs and outputs as [batch, time, features] instead of [time, batch, features] (torch's batch_first). */
  batchFirst?: boolean;
  generator?: Generator;
}

/** What a recurrent layer returns: every step's state and the last state (and the LSTM's last cell state). */
export interface RecurrentOutput {
  output: Tensor;
  h: Tensor;
  c?: Tensor;
}

function uniform(shape: number[], bound: number, generator: Generator): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (generator.rng.next() * 2 - 1) * bound;
  return fromHost(data, 'float32', shape);
}

/** Weights in torch's layout and names (`weight_ih_l0` [G·H, D], …); gates ordered as torch orders them. */
abstract class RecurrentLayer extends Module {
  readonly weight_ih_l0: Parameter;
  readonly weight_hh_l0: Parameter;
  readonly bias_ih_l0: Parameter;
  readonly bias_hh_l0: Parameter;

  constructor(private readonly kind: Kind, readonly inputSize: number, readonly hiddenSize: number, private readonly o: RecurrentOptions = {}) {
    super();
    const generator = o.generator ?? defaultGenerator;
    const rows = GATES[kind] * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    this.weight_ih_l0 = new Parameter(uniform([rows, inputSize], bound, generator));
    this.weight_hh_l0 = new Parameter(uniform([rows, hiddenSize], bound, generator));
    this.bias_ih_l0 = new Parameter(uniform([rows], bound, generator));
    this.bias_hh_l0 = new Parameter(uniform([rows], bound, generator));
  }

  /** Runs the layer over x [T, B, D] (or [B, T, D] with batchFirst) from zero states. */
  run(x: Tensor): RecurrentOutput {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw geulError('INVALID_INPUT', { detail: `${this.kind.toUpperCase()}(${this.inputSize}, ${this.hiddenSize}): input must be [${this.o.batchFirst ? 'batch, time' : 'time, batch'}, ${this.inputSize}] (got [${x.shape.join(', ')}])` });
    }
    const seq = this.o.batchFirst ? x.transpose(0, 1) : x;
    const [T, B] = seq.shape;
    const H = this.hiddenSize;
    const kind = this.kind;
    const inputs = [seq.float().node, this.weight_ih_l0.node, this.weight_hh_l0.node, this.bias_ih_l0.node, this.bias_hh_l0.node];
    const count = kind === 'lstm' ? 3 : 2;
    const outs = recordOp({
      key: `${kind}:${H}`,
      emit: (g: GraphBuilder, [v, wih, whh, bih, bhh]): Value[] => {
        const w: RecurrentWeights = { wx: g.transpose(wih, [1, 0]), bx: bih, wh: g.transpose(whh, [1, 0]), bh: bhh };
        const mask = g.constantOfShape([T, B, 1], 1, 'float32', [T, B, 1]);
        // Declared numeric shapes: the layers declare symbolic time/batch dims, later ops want the real ones.
        if (kind === 'lstm') {
          const r = lstm(g, v, mask, w, { hidden: H, train: true });
          return [g.withShape(r.outputs, [T, B, H]), g.withShape(r.last, [B, H]), g.withShape(r.cell, [B, H])];
        }
        const r = recurrent(g, v, mask, w, { cell: kind, hidden: H, train: true });
        return [g.withShape(r.outputs, [T, B, H]), g.withShape(r.last, [B, H])];
      },
      infer: (): OutputType[] => [[T, B, H], [B, H], [B, H]].slice(0, count).map((shape) => ({ dtype: 'float32', shape })),
    }, inputs, count).map((n) => new Tensor(n));
    const output = this.o.batchFirst ? outs[0].transpose(0, 1) : outs[0];
    return { output, h: outs[1], ...(kind === 'lstm' && { c: outs[2] }) };
  }

  /** Every step's state ([T, B, H], or [B, T, H] with batchFirst); `run` also gives the last states. */
  forward(x: Tensor): Tensor {
    return this.run(x).output;
  }
}

/** Elman RNN with tanh: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh). */
export class RNN extends RecurrentLayer {
  constructor(inputSize: number, hiddenSize: number, o: RecurrentOptions = {}) {
    super('rnn', inputSize, hiddenSize, o);
  }
}

/** GRU with torch's gates (reset, update, new; the reset gate scales the recurrent part of the candidate). */
export class GRU extends RecurrentLayer {
  constructor(inputSize: number, hiddenSize: number, o: RecurrentOptions = {}) {
    super('gru', inputSize, hiddenSize, o);
  }
}

/** LSTM with torch's gates (input, forget, cell, output). */
export class LSTM extends RecurrentLayer {
  constructor(inputSize: number, hiddenSize: number, o: RecurrentOptions = {}) {
    super('lstm', inputSize, hiddenSize, o);
  }
}
