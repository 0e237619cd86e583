// Optimizers (SGD with momentum, Adam, AdamW) whose update is recorded with tensor ops and run with the step's graph.
//
// step() records every parameter's update under noGrad, then realises new parameters, optimizer state and gradients
// in one session run (the pending forward and backward included), and points each parameter at its new data.
// Numbers that change between steps (learning rate, bias corrections) are fed as 0-d tensors: no recompiles.
import { geulError } from '../core/errors.js';
import { fromHost, zerosLike } from './create.js';
import { noGrad, realizeNodes, type HostData } from './lazy.js';
import { Tensor } from './tensor.js';

const scalar = (v: number): Tensor => fromHost(Float32Array.of(v), 'float32', []);

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Per-parameter state tensors (momentum buffers, moments), by parameter index. */
  protected readonly state = new Map<number, Record<string, Tensor>>();
  protected steps = 0;
  /** This step's fed numbers by role: every parameter's update reads the same few graph inputs. */
  private feeds = new Map<string, Tensor>();

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
    this.feeds = new Map();
    const updates: { target: Tensor; next: Tensor }[] = [];
    const grads: Tensor[] = [];
    noGrad(() => {
      this.params.forEach((p, i) => {
        const grad = p.gradOrNull;
        if (!grad) return;
        grads.push(grad);
        const state = this.state.get(i) ?? {};
        const { param, ...nextState } = this.update(p, grad, state);
        updates.push({ target: p, next: param });
        for (const [name, value] of Object.entries(nextState)) {
          if (!state[name]) state[name] = zerosLike(p);
          updates.push({ target: state[name], next: value });
        }
        this.state.set(i, state);
      });
    });
    await realizeNodes([...updates.map((u) => u.next.node), ...grads.map((g) => g.node)]);
    for (const { target, next } of updates) target.assign(next.node.data as HostData);
  }

  /** The new parameter value and new state tensors (same names as in `state`, which starts empty). */
  protected abstract update(p: Tensor, grad: Tensor, state: Record<string, Tensor>): { param: Tensor } & Record<string, Tensor>;

  /** A number of this step fed as data (one input per role), so a changing value does not change the compiled graph. */
  protected fed(role: string, v: number): Tensor {
    let t = this.feeds.get(role);
    if (!t) this.feeds.set(role, (t = scalar(v)));
    return t;
  }
}

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/** torch.optim.SGD: p -= lr·g with optional momentum (buffer starts as the first gradient), Nesterov and L2 decay. */
export class SGD extends Optimizer {
  constructor(params: Iterable<Tensor>, private readonly o: SGDOptions) {
    super(params, o.lr);
  }

  protected update(p: Tensor, grad: Tensor, state: Record<string, Tensor>): { param: Tensor } & Record<string, Tensor> {
    const { momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = this.o;
    let g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const lr = this.fed('lr', this.lr);
    if (!momentum) return { param: p.sub(g.mul(lr)) };
    // First step: the buffer is the gradient itself (torch), i.e. 0·momentum + 1·g with the scale fed.
    const scale = this.fed('scale', this.steps === 1 ? 1 : 1 - dampening);
    const previous = state.buf ?? zerosLike(p);
    const buf = previous.mul(momentum).add(g.mul(scale));
    g = nesterov ? g.add(buf.mul(momentum)) : buf;
    return { param: p.sub(g.mul(lr)), buf };
  }
}

export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }

/** torch.optim.Adam (weight decay as L2 added to the gradient). */
export class Adam extends Optimizer {
  protected readonly betas: [number, number];
  protected readonly eps: number;
  protected readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, o: AdamOptions = {}, defaultDecay = 0) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? defaultDecay;
  }

  protected decoupled(): boolean {
    return false;
  }

  protected update(p: Tensor, grad: Tensor, state: Record<string, Tensor>): { param: Tensor } & Record<string, Tensor> {
    const [b1, b2] = this.betas;
    const t = this.steps;
    const decayed = this.weightDecay && this.decoupled() ? p.mul(this.fed('decay', 1 - this.lr * this.weightDecay)) : p;
    const g = this.weightDecay && !this.decoupled() ? grad.add(p.mul(this.weightDecay)) : grad;
    const m = (state.m ?? zerosLike(p)).mul(b1).add(g.mul(1 - b1));
    const v = (state.v ?? zerosLike(p)).mul(b2).add(g.mul(g).mul(1 - b2));
    // p -= lr/(1-b1^t) · m / (√v/√(1-b2^t) + eps), the bias corrections fed as numbers of this step.
    const stepSize = this.fed('stepSize', this.lr / (1 - b1 ** t));
    const denom = v.sqrt().mul(this.fed('correction2', 1 / Math.sqrt(1 - b2 ** t))).add(this.eps);
    return { param: decayed.sub(m.div(denom).mul(stepSize)), m, v };
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

  protected override update(p: Tensor, grad: Tensor, state: Record<string, Tensor>): { param: Tensor } & Record<string, Tensor> {
    const dense = super.update(p, grad, state);
    const rest = grad.shape.map((_, i) => i).slice(1);
    const touched = rest.length ? grad.abs().sum(rest, true).gt(0) : grad.ne(0);
    const m = state.m ?? zerosLike(p);
    const v = state.v ?? zerosLike(p);
    return { param: dense.param.where(touched, p), m: dense.m.where(touched, m), v: dense.v.where(touched, v) };
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
