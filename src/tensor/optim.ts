// Optimizers (SGD with momentum, Adam, AdamW, SparseAdam): the step's graph computes the gradients, the update runs
// on the host.
//
// step() realises every gradient in one session run (the pending forward and backward included, and the loss along
// with them), then one fused loop per parameter (optim-kernels.ts) writes its new values into a new array and updates
// its moments in place; each parameter is pointed at its new data. Nothing about the update is in the graph, so
// changing the learning rate never recompiles. See docs/tensors.md ("Parameters").
import { geulError } from '../core/errors.js';
import { realizeNodes } from './lazy.js';
import { WasmAdam } from './adam-wasm.js';
import { adamUpdate, sgdUpdate, type AdamScalars } from './optim-kernels.js';
import type { Tensor } from './tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Per-parameter state arrays (momentum buffers, moments), by parameter index; created on its first update. */
  protected readonly state = new Map<number, Record<string, Float32Array>>();
  protected steps = 0;

  constructor(params: Iterable<Tensor>, public lr: number) {
    this.params = [...params];
    if (this.params.length === 0) throw geulError('INVALID_INPUT', { detail: 'optimizer got an empty parameter list' });
    for (const p of this.params) {
      if (!p.requiresGrad || !p.isLeaf) throw geulError('INVALID_INPUT', { detail: `optimizer: parameters must be leaf tensors with requiresGrad (shape [${p.shape.join(', ')}])` });
    }
    if (!(lr >= 0)) throw geulError('INVALID_INPUT', { detail: `optimizer: invalid learning rate ${lr}` });
  }

  /** Forgets the gradients (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** One update of every parameter that has a gradient; resolves once the new values are computed. */
  async step(): Promise<void> {
    this.steps++;
    const work: { index: number; param: Tensor; grad: Tensor }[] = [];
    this.params.forEach((param, index) => {
      const grad = param.gradOrNull;
      if (grad) work.push({ index, param, grad });
    });
    await realizeNodes(work.map((w) => w.grad.node));
    this.begin();
    for (const { index, param, grad } of work) {
      const p = param.node.data as Float32Array;
      const g = grad.node.data as Float32Array;
      const fresh = !this.state.has(index);
      const state = this.state.get(index) ?? {};
      this.state.set(index, state);
      const next = new Float32Array(p.length);
      this.update(index, param, p, g, next, state, fresh);
      param.assign(next);
    }
  }

  /** Computes this step's numbers (bias corrections, …) once, before the parameters' updates. */
  protected begin(): void {}

  /**
   * Writes the new values of parameter `param` (number `index`; values `p`, gradient `g`) into `out` and updates its
   * `state` in place; `fresh` on its first update (state is then empty: create what it needs).
   */
  protected abstract update(index: number, param: Tensor, p: Float32Array, g: Float32Array, out: Float32Array, state: Record<string, Float32Array>, fresh: boolean): void;
}

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/** torch.optim.SGD: p -= lr·g with optional momentum (the buffer starts as the first gradient), Nesterov and L2 decay. */
export class SGD extends Optimizer {
  constructor(params: Iterable<Tensor>, private readonly o: SGDOptions) {
    super(params, o.lr);
  }

  protected update(_index: number, _param: Tensor, p: Float32Array, g: Float32Array, out: Float32Array, state: Record<string, Float32Array>, fresh: boolean): void {
    const { momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = this.o;
    if (momentum && fresh) state.buf = new Float32Array(p.length);
    sgdUpdate(p, g, out, momentum ? state.buf : undefined, fresh, { lr: this.lr, momentum, dampening, weightDecay, nesterov });
  }
}

export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }

/** torch.optim.Adam (weight decay as L2 added to the gradient). */
export class Adam extends Optimizer {
  protected readonly betas: [number, number];
  protected readonly eps: number;
  protected readonly weightDecay: number;
  private scalars?: AdamScalars;
  /** The SIMD kernel holding dense parameters' moments (created on the first step); null: the JavaScript loop. */
  private kernel?: WasmAdam | null;

  constructor(params: Iterable<Tensor>, o: AdamOptions = {}, defaultDecay = 0) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? defaultDecay;
  }

  protected decoupled(): boolean {
    return false;
  }

  /** Rows of `param` that move only when they have a gradient (SparseAdam), as a row width; undefined: all move. */
  protected rowWidth(_param: Tensor): number | undefined {
    return undefined;
  }

  protected override begin(): void {
    const [b1, b2] = this.betas;
    const t = this.steps;
    const decoupled = this.decoupled();
    // p -= lr/(1-b1^t) · m / (√v/√(1-b2^t) + eps): torch's form of the bias corrections.
    this.scalars = {
      b1, b2, eps: this.eps,
      stepSize: this.lr / (1 - b1 ** t),
      correction2: 1 / Math.sqrt(1 - b2 ** t),
      l2: decoupled ? 0 : this.weightDecay,
      decay: decoupled ? 1 - this.lr * this.weightDecay : 1,
    };
  }

  protected update(index: number, param: Tensor, p: Float32Array, g: Float32Array, out: Float32Array, state: Record<string, Float32Array>, fresh: boolean): void {
    const rowWidth = this.rowWidth(param);
    if (rowWidth === undefined) {
      if (this.kernel === undefined) this.kernel = WasmAdam.create(this.params.map((t) => t.numel())) ?? null;
      if (this.kernel) {
        if (fresh) this.kernel.reset(index);
        return this.kernel.update(index, p, g, out, this.scalars as AdamScalars);
      }
    }
    if (fresh) {
      state.m = new Float32Array(p.length);
      state.v = new Float32Array(p.length);
    }
    adamUpdate(p, g, out, state.m, state.v, this.scalars as AdamScalars, rowWidth);
  }
}

/** torch.optim.AdamW: decoupled weight decay (default 0.01), p ← p·(1 - lr·wd) before the Adam update. */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, o: AdamOptions = {}) {
    super(params, o, 0.01);
  }

  protected override decoupled(): boolean {
    return true;
  }
}

export interface SparseAdamOptions { lr?: number; betas?: [number, number]; eps?: number }

/**
 * torch.optim.SparseAdam for embedding tables: Adam on the rows (along dimension 0) that have a gradient this step,
 * moments included; the other rows keep their values and moments. The gradient here is dense (zero in the rows the
 * batch did not look up), so a row counts as having one when any of its entries is non-zero. Why not plain Adam:
 * its moments keep moving a row for many steps after each lookup, so rare words and bigrams move about ten times as
 * far per occurrence; this is the "lazy" update geul's built-in text models make (src/train/host-optim.ts).
 * Bias corrections count every step, as torch's do.
 */
export class SparseAdam extends Adam {
  constructor(params: Iterable<Tensor>, o: SparseAdamOptions = {}) {
    super(params, o);
  }

  protected override rowWidth(param: Tensor): number {
    // A row is dimension 0's slice; a 0-d or 1-d parameter's rows are its elements.
    return param.ndim > 1 ? param.numel() / param.shape[0] : 1;
  }
}

/** Multiplies the learning rate by gamma every `stepSize` calls of step() (torch's StepLR, stepped per epoch). */
export class StepLR {
  private epoch = 0;
  constructor(private readonly optimizer: Optimizer, private readonly stepSize: number, private readonly gamma = 0.1) {
    if (!(stepSize > 0)) throw geulError('INVALID_INPUT', { detail: `StepLR: stepSize must be positive (got ${stepSize})` });
  }

  step(): void {
    this.epoch++;
    if (this.epoch % this.stepSize === 0) this.optimizer.lr *= this.gamma;
  }

  get lastLr(): number {
    return this.optimizer.lr;
  }
}
