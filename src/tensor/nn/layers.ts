// nn layers: Linear, Embedding, LayerNorm, Dropout, Sequential and the activation modules, as torch initialises them.
import { geulError } from '../../core/errors.js';
import { defaultGenerator, fromHost, ones, randn, zeros, type Generator } from '../create.js';
import { record } from '../lazy.js';
import { Tensor } from '../tensor.js';
import { Module, Parameter } from './module.js';


export interface InitOptions {
  generator?: Generator;
}

/** y = x·Wᵀ + b with W [out, in] (torch layout). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: InitOptions & { bias?: boolean } = {}) {
    super();
    const generator = o.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt(inFeatures);
    // Values are drawn on the host: the initial parameters are data, not a graph.
    this.weight = new Parameter(hostUniform([outFeatures, inFeatures], bound, generator));
    this.bias = o.bias === false ? null : new Parameter(hostUniform([outFeatures], bound, generator));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim === 2 && x.shape[1] === this.inFeatures) {
      // One Gemm (x·Wᵀ + b, transB): no transposed copy of W per step, bias fused; its gradient is Gemm's own.
      const inputs = [x.float().node, this.weight.node, ...(this.bias ? [this.bias.node] : [])];
      return new Tensor(record(`linear:${this.bias ? 'b' : ''}`, inputs, (g, [v, w, b]) => g.gemm(v, w, b, { transB: true })));
    }
    const y = x.matmul(this.weight.T);
    return this.bias ? y.add(this.bias) : y;
  }
}

function hostUniform(shape: number[], bound: number, generator: Generator): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (generator.rng.next() * 2 - 1) * bound;
  return fromHost(data, 'float32', shape);
}

/** Rows of a [num, dim] table picked by int64 ids of any shape (initialised N(0, 1) like torch). */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, o: InitOptions = {}) {
    super();
    this.weight = new Parameter(randn([numEmbeddings, embeddingDim], { generator: o.generator }));
  }

  forward(ids: Tensor): Tensor {
    return this.weight.indexSelect(0, ids);
  }
}

/** Normalises over the trailing `normalizedShape` dims, then scales and shifts (ONNX LayerNormalization). */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | number[], readonly eps = 1e-5) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.weight = new Parameter(ones(this.normalizedShape));
    this.bias = new Parameter(zeros(this.normalizedShape));
  }

  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    if (x.shape.slice(-k).join() !== this.normalizedShape.join()) {
      throw geulError('INVALID_INPUT', { detail: `LayerNorm([${this.normalizedShape.join(', ')}]): input shape [${x.shape.join(', ')}] does not end with it` });
    }
    const axis = x.ndim - k;
    const eps = this.eps;
    return new Tensor(record(`layerNorm:${axis}:${eps}`, [x.float().node, this.weight.node, this.bias.node], (g, [v, w, b]) => g.layerNorm(v, w, b, { axis, epsilon: eps })));
  }
}

/** Zeroes each element with probability p while training, scaling the rest by 1/(1-p); identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, private readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p < 1)) throw geulError('INVALID_INPUT', { detail: `Dropout: p must be in [0, 1) (got ${p})` });
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    // The mask is drawn on the host and fed as data, so each step reuses the compiled graph.
    const keep = 1 / (1 - this.p);
    const size = x.numel();
    const mask = new Float32Array(size);
    for (let i = 0; i < size; i++) mask[i] = this.generator.rng.next() >= this.p ? keep : 0;
    return x.mul(fromHost(mask, 'float32', x.shape));
  }
}

/** Runs its modules in order; they are registered as fields `0`, `1`, … (torch's names in state dicts). */
export class Sequential extends Module {
  readonly length: number;

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => Object.defineProperty(this, String(i), { value: m, enumerable: true }));
    this.length = modules.length;
  }

  /** The i-th module. */
  get(i: number): Module {
    return (this as unknown as Record<string, Module>)[String(i)];
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < this.length; i++) y = this.get(i).forward(y);
    return y;
  }
}

export class ReLU extends Module { forward(x: Tensor): Tensor { return x.relu(); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return x.tanh(); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return x.sigmoid(); } }
export class GELU extends Module { forward(x: Tensor): Tensor { return x.gelu(); } }

