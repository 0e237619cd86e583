// The lazy tensor runtime: a DAG of data and op nodes, realised as one ONNX Runtime session per graph structure.
//
// A node is data (a host typed array) or an op (a recipe that emits graph nodes, plus its input nodes). Realising
// walks from the requested nodes down to data nodes, builds one graph (data nodes → inputs), and runs it in a
// session cached by the walk's structural key. See docs/tensors.md ("Design").
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { GraphBuilder, type Value } from '../graph/builder.js';
import { createSession, type GraphSession } from '../runtime/sessions.js';

/** float16 is storage only: ops other than casts read a float16 tensor as float32 (see recordOp and docs/tensors.md). */
export type TensorDType = 'float32' | 'int64' | 'bool' | 'float16';
/** Host values by dtype: Float32Array, BigInt64Array, Uint8Array (bool 0/1), Uint16Array (float16 bits). */
export type HostData = Float32Array | BigInt64Array | Uint8Array | Uint16Array;

/** How an op node becomes graph nodes; `key` names everything that changes the emitted graph (op, attributes, constants). */
export interface Recipe {
  readonly key: string;
  emit(g: GraphBuilder, inputs: Value[]): Value | Value[];
  /** Output types when the graph's shape rules cannot give them (the probe is skipped). */
  infer?(inputs: readonly Node[]): OutputType[];
  /** A backward pass: the recipes of realised tensors below it are emitted again so gradients can cross them. */
  backward?: boolean;
}

export interface OutputType {
  dtype: TensorDType;
  shape: number[];
}

/** One value of the pending DAG (or a multi-output group, whose outputs are `pick` nodes). */
export class Node {
  data?: HostData;
  /** The recipe that computes this node from `inputs`; kept after realising when gradients may flow through it. */
  op?: { recipe: Recipe; inputs: Node[] };
  /** For a pick node: which output of its single input (a group) it is. */
  pick?: number;
  /** A leaf tensor that receives `.grad` (set by the Tensor that owns this data node). */
  owner?: object;
  /** For a backward group: the loss, realised along with the gradients since it is computed anyway. */
  rideAlong?: Node;

  constructor(readonly dtype: TensorDType, readonly shape: readonly number[], public requiresGrad = false) {}

  private typeText?: string;

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** `float32[2,3]`: the part of cache keys this node's type contributes (computed once). */
  get typeKey(): string {
    return (this.typeText ??= `${this.dtype}[${this.shape.join(',')}]`);
  }
}

export const dataNode = (dtype: TensorDType, shape: readonly number[], data: HostData, requiresGrad = false): Node => {
  const node = new Node(dtype, shape, requiresGrad);
  node.data = data;
  return node;
};

let gradDisabled = 0;

/** Runs `fn` with gradient recording off (PyTorch's `torch.no_grad()`); `fn` must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    const out = fn();
    if (out instanceof Promise) throw geulError('INVALID_INPUT', { detail: 'noGrad(fn): fn must be synchronous (record ops inside, await outside)' });
    return out;
  } finally {
    gradDisabled--;
  }
}

export const isGradEnabled = (): boolean => gradDisabled === 0;

/** An Identity the autodiff does not pass through: detach() and ops recorded under noGrad. */
export const stopGradient = (g: GraphBuilder, x: Value): Value => g.op1('Identity', [x], {}, { gradient: { grad: () => [undefined] } });

const probeCache = new Map<string, OutputType[]>();

/** Output types of a recipe on these inputs, from the graph's own shape rules (a one-node probe graph), cached. */
function inferTypes(recipe: Recipe, inputs: readonly Node[]): OutputType[] {
  if (recipe.infer) return recipe.infer(inputs);
  const signature = `${recipe.key}|${inputs.map((n) => n.typeKey).join(';')}`;
  const cached = probeCache.get(signature);
  if (cached) return cached;
  const g = new GraphBuilder('probe');
  const xs = inputs.map((n, i) => g.input(`p${i}`, n.dtype, n.shape));
  const out = recipe.emit(g, xs);
  const types = (Array.isArray(out) ? out : [out]).map((v) => {
    const dims = v.shape;
    if (!v.dtype || !dims || dims.some((d) => typeof d !== 'number' || d < 0 || !Number.isInteger(d))) {
      throw geulError('GRAPH_INVALID', { detail: `tensor op ${recipe.key}: cannot infer the output type of ${v.name} (${v.dtype ?? '?'} [${dims?.join(', ') ?? '?'}])` });
    }
    if (v.dtype !== 'float32' && v.dtype !== 'int64' && v.dtype !== 'bool' && v.dtype !== 'float16') throw geulError('GRAPH_INVALID', { detail: `tensor op ${recipe.key}: unsupported dtype ${v.dtype}` });
    return { dtype: v.dtype as TensorDType, shape: dims as number[] };
  });
  if (probeCache.size > 4096) probeCache.clear();
  probeCache.set(signature, types);
  return types;
}

/** A tensor that takes gradients (the Tensor owning a leaf's data node). */
export interface GradOwner {
  addGrad(grad: Node): void;
}

/**
 * Records an op. With `outputs` (a count) the op is a group with that many results, returned as pick nodes; without,
 * its emit returns one Value and one node comes back. Gradients flow when an input needs them, unless `differentiable`
 * is false (the outputs are then constants to the autodiff).
 */
export function recordOp(recipe: Recipe, given: readonly Node[], outputs?: number, differentiable = true): Node[] {
  // float16 is storage: every op but a cast computes on the float32 value (ONNX Runtime's CPU kernels mostly lack
  // float16, and one rule is easier to predict than a per-op list).
  const inputs = recipe.key.startsWith('cast:') ? given : given.map(upcast);
  const types = inferTypes(recipe, inputs);
  const wantsGrad = differentiable && inputs.some((n) => n.requiresGrad);
  // Under noGrad, a value computed from tensors that need gradients is cut off from them (as if detached).
  const cut = wantsGrad && !isGradEnabled();
  const used: Recipe = cut ? { key: `${recipe.key}!`, emit: (g, xs) => stopAll(g, recipe.emit(g, xs)), infer: () => types } : recipe;
  // Gradients flow through float16 values too (a cast there and back), though only float32 leaves receive them.
  const grads = (t: OutputType) => wantsGrad && !cut && (t.dtype === 'float32' || t.dtype === 'float16');
  if (outputs === undefined) {
    const node = new Node(types[0].dtype, types[0].shape, grads(types[0]));
    node.op = { recipe: used, inputs: [...inputs] };
    return [node];
  }
  const group = new Node('float32', [], types.some(grads));
  group.op = { recipe: used, inputs: [...inputs] };
  return types.slice(0, outputs).map((t, i) => {
    const node = new Node(t.dtype, t.shape, grads(t));
    node.op = { recipe: PICK, inputs: [group] };
    node.pick = i;
    return node;
  });
}

const upcast = (n: Node): Node => (n.dtype === 'float16' ? record('cast:float32', [n], (g, [v]) => g.cast(v, 'float32')) : n);

/** Records a single-output op. */
export const record = (key: string, inputs: readonly Node[], emit: (g: GraphBuilder, xs: Value[]) => Value, infer?: Recipe['infer']): Node =>
  recordOp({ key, emit, ...(infer && { infer }) }, inputs)[0];

const stopAll = (g: GraphBuilder, out: Value | Value[]): Value | Value[] => (Array.isArray(out) ? out.map((v) => stopGradient(g, v)) : stopGradient(g, out));

const PICK: Recipe = { key: 'pick', emit: () => { throw geulError('GRAPH_INVALID', { detail: 'pick nodes are emitted by the planner' }); } };

/** A walk of the DAG: the graph's inputs, its emit steps and the structural key. */
export interface Plan {
  key: string;
  leaves: Node[];
  steps: { node: Node; inputs: number[] }[];
  /** Step id (or leaf id, negative-1-based) of every output node. */
  outputs: number[];
  outputNodes: Node[];
}

export function plan(requested: readonly Node[]): Plan {
  const leaves: Node[] = [];
  const leafIds = new Map<Node, number>();
  const ids = new Map<Node, number>();
  const steps: Plan['steps'] = [];
  const parts: string[] = [];
  // Ids: leaves are -1, -2, …; steps 0, 1, …. A realised node is a graph input, except where a gradient has to
  // cross it (`through`: below a backward node or a tensor that requires gradients): there its recipe is emitted again.
  // Depth-first without recursion: a long chain of ops recorded without reading a value must not overflow the stack.
  const known = (node: Node, through: boolean): number | undefined => {
    if (node.data !== undefined && !(through && node.requiresGrad && node.op)) {
      let id = leafIds.get(node);
      if (id === undefined) {
        leaves.push(node);
        id = -leaves.length;
        leafIds.set(node, id);
        parts.push(`I${node.typeKey}`);
      }
      return id;
    }
    return ids.get(node);
  };
  interface Frame { node: Node; inputs: readonly Node[]; inner: boolean; ids: number[] }
  const frame = (node: Node): Frame => {
    const op = node.op;
    if (!op) throw geulError('GRAPH_INVALID', { detail: 'tensor node has neither data nor an op' });
    return { node, inputs: op.inputs, inner: node.requiresGrad || op.recipe.backward === true, ids: [] };
  };
  const visit = (root: Node, through: boolean): number => {
    const done = known(root, through);
    if (done !== undefined) return done;
    const stack = [frame(root)];
    for (;;) {
      const top = stack[stack.length - 1];
      if (top.ids.length < top.inputs.length) {
        const child = top.inputs[top.ids.length];
        const id = known(child, top.inner);
        if (id === undefined) stack.push(frame(child));
        else top.ids.push(id);
        continue;
      }
      stack.pop();
      const id = steps.length;
      steps.push({ node: top.node, inputs: top.ids });
      ids.set(top.node, id);
      const recipe = (top.node.op as NonNullable<Node['op']>).recipe;
      parts.push(top.node.pick !== undefined ? `#${top.node.pick}(${top.ids[0]})` : `${recipe.key}(${top.ids.join(',')})`);
      if (stack.length === 0) return id;
      stack[stack.length - 1].ids.push(id);
    }
  };
  const outputNodes: Node[] = [];
  const outputs: number[] = [];
  const want = (node: Node) => {
    if (outputNodes.includes(node)) return;
    outputNodes.push(node);
    outputs.push(visit(node, false));
  };
  for (const node of requested) want(node);
  // Losses of backward groups in the walk are computed anyway: hand them back too.
  for (const { node } of [...steps]) if (node.rideAlong && node.rideAlong.data === undefined) want(node.rideAlong);
  parts.push(`->${outputs.join(',')}`);
  return { key: parts.join(' '), leaves, steps, outputs, outputNodes };
}

/** Emits a plan's steps into `g` over the given values of its leaves; returns the values of its outputs. */
export function emitPlan(g: GraphBuilder, p: Plan, leafValues: readonly Value[]): Value[] {
  const values: (Value | Value[])[] = [];
  const valueOf = (id: number): Value | Value[] => (id < 0 ? leafValues[-id - 1] : values[id]);
  for (const { node, inputs: ins } of p.steps) {
    const op = node.op as NonNullable<Node['op']>;
    if (node.pick !== undefined) {
      values.push((valueOf(ins[0]) as Value[])[node.pick]);
      continue;
    }
    values.push(g.scope(`s${values.length}`, () => op.recipe.emit(g, ins.map((id) => valueOf(id) as Value))));
  }
  return p.outputs.map((id) => valueOf(id) as Value);
}

function buildGraph(p: Plan): GraphBuilder {
  const g = new GraphBuilder('tensors');
  const inputs = p.leaves.map((n, i) => g.input(`in${i}`, n.dtype, n.shape));
  emitPlan(g, p, inputs).forEach((v, i) => g.output(v, `out${i}`, { dtype: p.outputNodes[i].dtype }));
  return g;
}

const MAX_SESSIONS = 64;
const settings: { threads?: number } = {};

/** Session settings for graphs compiled from now on: intra-op threads (default: ONNX Runtime's, one per core). */
export function configureTensors(o: { threads?: number }): void {
  settings.threads = o.threads;
}

const sessions = new Map<string, Promise<GraphSession>>();
const stats = { compiles: 0, runs: 0, cacheHits: 0 };

/** How often the lazy runtime compiled a graph, ran a session, and reused a cached one (for tests and benchmarks). */
export function tensorStats(): Readonly<typeof stats> {
  return { ...stats };
}

/** Releases every cached session (the next realisation compiles again). */
export async function clearCompiled(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s).release();
}

async function sessionFor(p: Plan): Promise<GraphSession> {
  const cached = sessions.get(p.key);
  if (cached) {
    stats.cacheHits++;
    sessions.delete(p.key);
    sessions.set(p.key, cached);
    return cached;
  }
  stats.compiles++;
  // Severity 3 (errors only): ORT warns about constants its optimiser folded away, which is expected here.
  const created = createSession(buildGraph(p).serialize(), { threads: settings.threads, extra: { logSeverityLevel: 3 } });
  sessions.set(p.key, created);
  created.catch(() => sessions.delete(p.key));
  if (sessions.size > MAX_SESSIONS) {
    const [oldest, session] = sessions.entries().next().value as [string, Promise<GraphSession>];
    sessions.delete(oldest);
    void session.then((s) => s.release(), () => undefined);
  }
  return created;
}

export const ortTensor = (n: Node): ort.Tensor => new ort.Tensor(n.dtype, n.data as HostData, n.shape as number[]);

/** Computes every pending node in `nodes` with one session run; afterwards each holds its data. */
export async function realizeNodes(nodes: readonly Node[]): Promise<void> {
  const pending = nodes.filter((n) => n.data === undefined);
  if (pending.length === 0) return;
  const p = plan(pending);
  const session = await sessionFor(p);
  const feeds: Record<string, ort.Tensor> = {};
  p.leaves.forEach((n, i) => (feeds[`in${i}`] = ortTensor(n)));
  stats.runs++;
  let results: ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (err) {
    // Values only known at run time (gather/indexSelect indices out of range, …) fail here rather than where recorded.
    throw geulError('INVALID_INPUT', { detail: `computing the tensors failed: ${(err as Error).message}` }, err);
  }
  p.outputNodes.forEach((node, i) => {
    node.data = results[`out${i}`].data as HostData;
    // The recipe stays only where a later backward() may still need to pass through this node.
    if (!node.requiresGrad) node.op = undefined;
  });
}
