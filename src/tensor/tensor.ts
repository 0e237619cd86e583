// The Tensor handle: PyTorch-named methods recording lazy ops, autograd state, and awaited reads of values.
import { geulError } from '../core/errors.js';
import { backward } from './autograd.js';
import * as ew from './elementwise.js';
import { formatTensor, toNested, elementAt, type ArrayOptions, type Nested } from './format.js';
import { dataNode, realizeNodes, record, stopGradient, type GradOwner, type HostData, type Node, type TensorDType } from './lazy.js';
import * as rd from './reduce.js';
import * as sh from './shape.js';

export type { TensorDType } from './lazy.js';
export type Operand = Tensor | number;
type Dims = rd.Dims;

const nodeOf = (v: Operand): Node | number => (typeof v === 'number' ? v : v.node);

/** A tensor: a handle on a lazily computed value. Ops record; `await t.array()` (or `item`, `realize`) computes. */
export class Tensor implements GradOwner {
  private gradNode: Node | null = null;
  private gradTensor: Tensor | null = null;

  /** @internal Use tensor(), zeros(), … or ops to make tensors. */
  constructor(private current: Node) {}

  /** @internal The lazy node this handle points at (changes when an optimizer updates a parameter). */
  get node(): Node { return this.current; }
  get dtype(): TensorDType { return this.current.dtype; }
  get shape(): number[] { return [...this.current.shape]; }
  get ndim(): number { return this.current.shape.length; }
  /** The element count (torch's numel()). */
  numel(): number { return this.current.size; }
  size(dim?: number): number | number[] {
    return dim === undefined ? this.shape : this.current.shape[rd.normDim(dim, this.ndim, 'size')];
  }

  get requiresGrad(): boolean { return this.current.requiresGrad; }
  /** Only leaves (created tensors, parameters) of dtype float32 can be asked for gradients. */
  set requiresGrad(on: boolean) {
    if (this.current.op) throw geulError('INVALID_INPUT', { detail: 'requiresGrad can only be set on leaf tensors (created ones, not results of ops); use detach() first' });
    if (on && this.dtype !== 'float32') throw geulError('INVALID_INPUT', { detail: `only float32 tensors can require gradients (this one is ${this.dtype})` });
    this.current.requiresGrad = on;
    this.current.owner = on ? this : undefined;
  }
  get isLeaf(): boolean { return !this.current.op; }

  /** The accumulated gradient (torch's `.grad`); an error until backward() has reached this tensor. */
  get grad(): Tensor {
    if (!this.gradTensor) throw geulError('INVALID_INPUT', { detail: `this tensor (shape [${this.shape.join(', ')}]) has no gradient: ${this.requiresGrad ? 'call backward() on a loss that depends on it first' : 'it does not require gradients'}` });
    return this.gradTensor;
  }
  /** The gradient, or null when there is none (what torch's `.grad` is None for). */
  get gradOrNull(): Tensor | null { return this.gradTensor; }
  set grad(value: Tensor | null) {
    this.gradNode = value?.node ?? null;
    this.gradTensor = value;
  }

  /** @internal Adds a gradient (accumulation across backward() calls). */
  addGrad(grad: Node): void {
    this.gradNode = this.gradNode ? ew.add(this.gradNode, grad) : grad;
    this.gradTensor = new Tensor(this.gradNode);
  }

  /** @internal Points this leaf at new data (optimizer steps); pending results keep the values they were made from. */
  assign(data: HostData): void {
    const node = dataNode(this.dtype, this.current.shape, data, this.current.requiresGrad);
    if (node.requiresGrad) node.owner = this;
    this.current = node;
  }

  /** Sets requiresGrad in place and returns this (torch's requires_grad_()). */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** The same values, cut off from the autograd graph. */
  detach(): Tensor {
    const n = this.current;
    if (n.data !== undefined) return new Tensor(dataNode(n.dtype, n.shape, n.data));
    return new Tensor(record('detach', [n], (g, [v]) => stopGradient(g, v)));
  }

  /** Computes this tensor (if pending) and returns it. */
  async realize(): Promise<this> {
    await realizeNodes([this.current]);
    return this;
  }

  /** The values as nested arrays of JS numbers for every dtype (bool as 0/1; int64 as BigInt with `{ bigint: true }`). */
  async array(o: ArrayOptions = {}): Promise<Nested<number>> {
    await this.realize();
    return toNested(this.current.data as HostData, this.dtype, this.current.shape, o) as Nested<number>;
  }

  /** The single value of a one-element tensor. */
  async item(o: ArrayOptions = {}): Promise<number> {
    if (this.numel() !== 1) throw geulError('INVALID_INPUT', { detail: `item() needs a one-element tensor (this one has shape [${this.shape.join(', ')}])` });
    await this.realize();
    return elementAt(this.current.data as HostData, this.dtype, 0, o) as number;
  }

  /** A copy of the flat data (Float32Array, BigInt64Array, Uint8Array for bool, Uint16Array of binary16 bits for float16). */
  async data(): Promise<HostData> {
    await this.realize();
    return (this.current.data as HostData).slice();
  }

  /** PyTorch's repr once realised; `tensor(<pending>, shape=[…])` before. */
  toString(): string {
    const n = this.current;
    const grad = (n.dtype === 'float16' ? ', dtype=torch.float16' : '') + (n.requiresGrad ? ', requires_grad=True' : '');
    if (n.data === undefined) return `tensor(<pending>, shape=[${n.shape.join(', ')}], dtype=${n.dtype}${grad})`;
    return formatTensor(n.data, n.dtype, n.shape, grad);
  }

  /** Records the backward pass: every leaf with requiresGrad this depends on gets its gradient added to `.grad`. */
  backward(gradient?: Tensor): void { backward(this.current, gradient?.node); }

  private wrap(n: Node): Tensor { return n === this.current ? this : new Tensor(n); }

  // Arithmetic (broadcasting; numbers are scalars of this tensor's type).
  add(o: Operand): Tensor { return this.wrap(ew.add(this.current, nodeOf(o))); }
  sub(o: Operand): Tensor { return this.wrap(ew.sub(this.current, nodeOf(o))); }
  mul(o: Operand): Tensor { return this.wrap(ew.mul(this.current, nodeOf(o))); }
  div(o: Operand): Tensor { return this.wrap(ew.div(this.current, nodeOf(o))); }
  pow(o: Operand): Tensor { return this.wrap(ew.pow(this.current, nodeOf(o))); }
  neg(): Tensor { return this.wrap(ew.neg(this.current)); }
  abs(): Tensor { return this.wrap(ew.abs(this.current)); }
  exp(): Tensor { return this.wrap(ew.exp(this.current)); }
  log(): Tensor { return this.wrap(ew.log(this.current)); }
  sqrt(): Tensor { return this.wrap(ew.sqrt(this.current)); }
  clamp(min?: number | null, max?: number | null): Tensor { return this.wrap(ew.clamp(this.current, min ?? undefined, max ?? undefined)); }

  // Comparisons and masks (bool results).
  eq(o: Operand): Tensor { return this.wrap(ew.eq(this.current, nodeOf(o))); }
  ne(o: Operand): Tensor { return this.wrap(ew.ne(this.current, nodeOf(o))); }
  lt(o: Operand): Tensor { return this.wrap(ew.lt(this.current, nodeOf(o))); }
  le(o: Operand): Tensor { return this.wrap(ew.le(this.current, nodeOf(o))); }
  gt(o: Operand): Tensor { return this.wrap(ew.gt(this.current, nodeOf(o))); }
  ge(o: Operand): Tensor { return this.wrap(ew.ge(this.current, nodeOf(o))); }
  logicalAnd(o: Tensor): Tensor { return this.wrap(ew.logicalAnd(this.current, o.node)); }
  logicalOr(o: Tensor): Tensor { return this.wrap(ew.logicalOr(this.current, o.node)); }
  logicalNot(): Tensor { return this.wrap(ew.logicalNot(this.current)); }
  /** torch's x.where(cond, other): this where cond is true, else other. */
  where(cond: Tensor, other: Operand): Tensor { return this.wrap(ew.where(cond.node, this.current, nodeOf(other))); }
  /** `value` where mask is true, this elsewhere. */
  maskedFill(mask: Tensor, value: number): Tensor { return this.wrap(ew.where(mask.node, value, this.current)); }

  // Types.
  to(dtype: TensorDType): Tensor { return this.wrap(ew.castTo(this.current, dtype)); }
  float(): Tensor { return this.to('float32'); }
  /** float16 storage (values rounded to half precision; ops read it back as float32). */
  half(): Tensor { return this.to('float16'); }
  long(): Tensor { return this.to('int64'); }
  bool(): Tensor { return this.to('bool'); }

  // Activations.
  relu(): Tensor { return this.wrap(ew.relu(this.current)); }
  tanh(): Tensor { return this.wrap(ew.tanh(this.current)); }
  sigmoid(): Tensor { return this.wrap(ew.sigmoid(this.current)); }
  gelu(): Tensor { return this.wrap(ew.gelu(this.current)); }
  softmax(dim: number): Tensor { return this.wrap(rd.softmax(this.current, dim)); }
  logSoftmax(dim: number): Tensor { return this.wrap(rd.logSoftmax(this.current, dim)); }

  // Linear algebra.
  matmul(o: Tensor): Tensor { return this.wrap(rd.matmul(this.current, o.node)); }
  mm(o: Tensor): Tensor { return this.wrap(rd.mm(this.current, o.node)); }
  bmm(o: Tensor): Tensor { return this.wrap(rd.bmm(this.current, o.node)); }

  // Reductions: dim (negative from the end; a list for several) and keepdim.
  sum(dim?: Dims, keepdim = false): Tensor { return this.wrap(rd.sum(this.current, dim, keepdim)); }
  mean(dim?: Dims, keepdim = false): Tensor { return this.wrap(rd.mean(this.current, dim, keepdim)); }
  max(dim?: Dims, keepdim = false): Tensor { return this.wrap(rd.max(this.current, dim, keepdim)); }
  min(dim?: Dims, keepdim = false): Tensor { return this.wrap(rd.min(this.current, dim, keepdim)); }
  argmax(dim?: number, keepdim = false): Tensor { return this.wrap(rd.argmax(this.current, dim, keepdim)); }
  argmin(dim?: number, keepdim = false): Tensor { return this.wrap(rd.argmin(this.current, dim, keepdim)); }
  /** Variance with Bessel's correction (correction 1) unless told otherwise. */
  var(dim?: Dims, keepdim = false, o: { correction?: number } = {}): Tensor { return this.wrap(rd.variance(this.current, dim, keepdim, o.correction ?? 1)); }
  std(dim?: Dims, keepdim = false, o: { correction?: number } = {}): Tensor { return this.wrap(rd.std(this.current, dim, keepdim, o.correction ?? 1)); }
  logsumexp(dim?: Dims, keepdim = false): Tensor { return this.wrap(rd.logsumexp(this.current, dim, keepdim)); }

  // Shapes.
  reshape(...shape: number[] | [readonly number[]]): Tensor { return this.wrap(sh.reshape(this.current, dimsOf(shape))); }
  view(...shape: number[] | [readonly number[]]): Tensor { return this.reshape(...shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return this.wrap(sh.flatten(this.current, startDim, endDim)); }
  permute(...dims: number[] | [readonly number[]]): Tensor { return this.wrap(sh.permute(this.current, dimsOf(dims))); }
  transpose(dim0: number, dim1: number): Tensor { return this.wrap(sh.transpose(this.current, dim0, dim1)); }
  /** All dimensions reversed (torch's .T). */
  get T(): Tensor { return this.permute(this.current.shape.map((_, i) => this.ndim - 1 - i)); }
  squeeze(dim?: number): Tensor { return this.wrap(sh.squeeze(this.current, dim)); }
  unsqueeze(dim: number): Tensor { return this.wrap(sh.unsqueeze(this.current, dim)); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return this.wrap(sh.expand(this.current, dimsOf(shape))); }
  split(size: number | readonly number[], dim = 0): Tensor[] { return sh.split(this.current, size, dim).map((n) => this.wrap(n)); }
  chunk(chunks: number, dim = 0): Tensor[] { return sh.chunk(this.current, chunks, dim).map((n) => this.wrap(n)); }

  // Indexing.
  /** x[i] (dimension 0; negative from the end). */
  at(index: number): Tensor { return this.wrap(sh.at(this.current, index)); }
  /** One spec per dimension: `[start, end, step]` (any part null), an index (dimension removed), or null for all. */
  slice(...specs: sh.SliceSpec[]): Tensor { return this.wrap(sh.slice(this.current, specs)); }
  gather(dim: number, index: Tensor): Tensor { return this.wrap(sh.gather(this.current, dim, index.node)); }
  /** torch's scatter (out of place): src (or a number) written at index along dim. */
  scatter(dim: number, index: Tensor, src: Operand): Tensor { return this.wrap(sh.scatter(this.current, dim, index.node, nodeOf(src))); }
  /** torch's scatter_add (out of place): src added at index along dim (repeated indices add up). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return this.wrap(sh.scatter(this.current, dim, index.node, src.node, 'add')); }
  indexSelect(dim: number, index: Tensor): Tensor { return this.wrap(sh.indexSelect(this.current, dim, index.node)); }
}

function dimsOf(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}
