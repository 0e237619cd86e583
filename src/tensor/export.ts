// nn.exportOnnx (torch.onnx.export): traces a module's forward through the lazy graph into a standalone ONNX model.
//
//   const bytes = await nn.exportOnnx(net, [x], { path: 'net.onnx', inputNames: ['x'], outputNames: ['y'],
//                                                 dynamicAxes: { x: { 0: 'batch' }, y: { 0: 'batch' } } });
//
// The forward is recorded twice (eval mode): on the example inputs and on copies one longer along every dynamic axis.
// Both walks must record the same ops with the same constants, or the graph depends on a size that was meant to vary
// (a reshape to the example's batch, an arange of its length) and the export says where. The first walk is emitted
// with symbolic dims on the dynamic axes, parameters become initializers under their state-dict names, and the model
// is then run by ONNX Runtime on the second inputs and checked against the module's own forward.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import { GraphBuilder, type Value } from '../graph/builder.js';
import type { Dim } from '../graph/onnx-proto.js';
import { createSession } from '../runtime/sessions.js';
import { fromHost } from './create.js';
import { emitPlan, ortTensor, plan, realizeNodes, type HostData, type Node, type Plan } from './lazy.js';
import type { Module } from './nn/module.js';
import type { Tensor } from './tensor.js';

/** Dynamic axes of one input or output: `{ 0: 'batch', 1: 'sequence' }`, or axis numbers (named `<name>_dim<axis>`). */
export type AxisNames = Readonly<Record<number, string>> | readonly number[];

export interface ExportOptions {
  /** Writes the model here (folders are created; the file is replaced whole). */
  path?: string;
  /** Graph input names in forward's argument order (default input_0, input_1, …). */
  inputNames?: readonly string[];
  /** The graph output's name (default `output`). */
  outputNames?: readonly string[];
  /** Axes that may change size at run time, by input or output name (torch's dynamic_axes). */
  dynamicAxes?: Readonly<Record<string, AxisNames>>;
  /** Runs the exported model on differently sized inputs and compares it with the module (default true). */
  verify?: boolean;
  /** The model's doc string. */
  docString?: string;
}

const invalid = (detail: string) => geulError('INVALID_INPUT', { detail: `exportOnnx: ${detail}` });

function axisNames(name: string, spec: AxisNames | undefined, rank: number): Map<number, string> {
  const out = new Map<number, string>();
  if (!spec) return out;
  const entries: [number, string][] = Array.isArray(spec)
    ? (spec as readonly number[]).map((a) => [a, `${name}_dim${a}`])
    : Object.entries(spec).map(([a, n]) => [Number(a), n as string]);
  for (const [axis, symbol] of entries) {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(a) || a < 0 || a >= rank) throw invalid(`dynamic axis ${axis} of ${name} is out of range for rank ${rank}`);
    out.set(a, symbol);
  }
  return out;
}

/** A copy of `data` one longer along each of `axes`, the last slice repeated (ids and masks stay valid values). */
function grow(data: HostData, shape: readonly number[], axes: readonly number[]): { data: HostData; shape: number[] } {
  const next = shape.map((d, i) => (axes.includes(i) ? d + 1 : d));
  const size = next.reduce((a, b) => a * b, 1);
  const out = new (data.constructor as new (n: number) => HostData)(size);
  const index = new Array<number>(next.length).fill(0);
  for (let k = 0; k < size; k++) {
    let src = 0;
    for (let i = 0; i < next.length; i++) src = src * shape[i] + Math.min(index[i], shape[i] - 1);
    (out as unknown as ArrayLike<unknown> & Record<number, unknown>)[k] = (data as unknown as ArrayLike<unknown>)[src];
    for (let i = next.length - 1; i >= 0 && ++index[i] === next[i]; i--) index[i] = 0;
  }
  return { data: out, shape: next };
}

type Role = { kind: 'input'; index: number } | { kind: 'param'; name: string } | { kind: 'const' };

function roles(p: Plan, inputs: readonly Node[], params: ReadonlyMap<Node, string>): Role[] {
  return p.leaves.map((leaf) => {
    const index = inputs.indexOf(leaf);
    if (index >= 0) return { kind: 'input', index };
    const name = params.get(leaf);
    return name === undefined ? { kind: 'const' } : { kind: 'param', name };
  });
}

const sameBytes = (a: HostData, b: HostData) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Why the two walks differ (the graph would depend on a dynamic size), or undefined when they record the same graph. */
function difference(a: Plan, b: Plan, ra: Role[], rb: Role[]): string | undefined {
  const stepText = (p: Plan, i: number) => {
    const { node, inputs } = p.steps[i];
    return node.pick !== undefined ? `output ${node.pick} of step ${inputs[0]}` : `${node.op?.recipe.key}(${inputs.join(', ')})`;
  };
  const steps = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < steps; i++) {
    const [x, y] = [a.steps[i] ? stepText(a, i) : 'nothing', b.steps[i] ? stepText(b, i) : 'nothing'];
    if (x !== y) return `op ${i} is ${x} for the example inputs but ${y} when a dynamic axis is one longer`;
  }
  if (a.leaves.length !== b.leaves.length) return `the forward reads ${a.leaves.length} tensors for the example inputs but ${b.leaves.length} for longer ones`;
  for (let i = 0; i < a.leaves.length; i++) {
    const [x, y] = [ra[i], rb[i]];
    if (JSON.stringify(x) !== JSON.stringify(y)) return `tensor ${i} the forward reads changes role (${x.kind} vs ${y.kind})`;
    if (x.kind === 'const' && (a.leaves[i].typeKey !== b.leaves[i].typeKey || !sameBytes(a.leaves[i].data as HostData, b.leaves[i].data as HostData))) {
      return `a tensor made inside forward (${a.leaves[i].typeKey} vs ${b.leaves[i].typeKey}) depends on the input sizes`;
    }
  }
  return undefined;
}

/** Max |a - b| relative to 1 + |b|: the exported graph and the lazy runtime run the same ops, so this is rounding. */
function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  return actual.length === expected.length ? worst : Infinity;
}

/** Traces `module.forward(...inputs)` in eval mode into an ONNX model (bytes; also written to `path` when given). */
export async function exportOnnx(module: Module, inputs: Tensor | readonly Tensor[], o: ExportOptions = {}): Promise<Uint8Array> {
  const examples = Array.isArray(inputs) ? [...(inputs as readonly Tensor[])] : [inputs as Tensor];
  const inputNames = o.inputNames ?? examples.map((_, i) => `input_${i}`);
  if (inputNames.length !== examples.length) throw invalid(`${inputNames.length} input names for ${examples.length} inputs`);
  const outputName = o.outputNames?.[0] ?? 'output';
  if ((o.outputNames?.length ?? 1) !== 1) throw invalid('a module forward has one output; give one output name');
  await realizeNodes(examples.map((t) => t.node));
  const dynamic = examples.map((t, i) => axisNames(inputNames[i], o.dynamicAxes?.[inputNames[i]], t.ndim));
  const params = new Map([...module.namedParameters()].map(([name, p]) => [p.node, name]));
  const longer = examples.map((t, i) => {
    const g = grow(t.node.data as HostData, t.shape, [...dynamic[i].keys()]);
    return fromHost(g.data, t.dtype, g.shape);
  });

  const training = module.training;
  module.eval();
  let traced: Tensor;
  let tracedLonger: Tensor;
  try {
    traced = module.forward(...examples);
    tracedLonger = module.forward(...longer);
  } finally {
    module.train(training);
  }
  const a = plan([traced.node]);
  const b = plan([tracedLonger.node]);
  const ra = roles(a, examples.map((t) => t.node), params);
  const differs = difference(a, b, ra, roles(b, longer.map((t) => t.node), params));
  if (differs) throw invalid(`the traced graph depends on the size of a dynamic axis: ${differs}. Compute shapes from the sizes that stay fixed (reshape(-1, …), mean over a dim) instead`);

  const g = new GraphBuilder(module.constructor.name || 'module');
  const graphInputs = examples.map((t, i) => g.input(inputNames[i], t.dtype, t.shape.map((d, axis): Dim => dynamic[i].get(axis) ?? d)));
  const leafValues = a.leaves.map((leaf, i): Value => {
    const role = ra[i];
    if (role.kind === 'input') return graphInputs[role.index];
    if (role.kind === 'param') return g.param(role.name, leaf.data as HostData, leaf.shape);
    // Host bool data is a Uint8Array, which the graph stores as uint8: cast it back.
    const value = g.constant(leaf.data as HostData, leaf.shape);
    return leaf.dtype === 'bool' ? g.cast(value, 'bool') : value;
  });
  const [result] = emitPlan(g, a, leafValues);
  // Output dims that changed with the inputs are symbolic: named as asked, else as the graph's shape rules named them.
  const asked = axisNames(outputName, o.dynamicAxes?.[outputName], traced.ndim);
  const outShape = traced.shape.map((d, axis): Dim => {
    if (asked.has(axis)) return asked.get(axis) as string;
    if (tracedLonger.shape[axis] === d) return d;
    const inferred = result.shape?.[axis];
    return typeof inferred === 'string' ? inferred : `${outputName}_dim${axis}`;
  });
  g.output(result, outputName, { dtype: traced.dtype, shape: outShape });
  const bytes = g.serialize({ docString: o.docString ?? `geul tensor module ${module.constructor.name}` });

  if (o.verify !== false) await verify(bytes, inputNames, longer, tracedLonger, outputName);
  if (o.path) {
    await mkdir(dirname(o.path), { recursive: true });
    await writeAtomic(o.path, bytes);
  }
  return bytes;
}

async function verify(bytes: Uint8Array, names: readonly string[], inputs: readonly Tensor[], expected: Tensor, outputName: string): Promise<void> {
  await expected.realize();
  const session = await createSession(bytes, { extra: { logSeverityLevel: 3 } });
  try {
    const feeds = Object.fromEntries(inputs.map((t, i) => [names[i], ortTensor(t.node)]));
    const out = (await session.run(feeds).catch((err: Error) => {
      throw invalid(`the exported model fails on inputs of other sizes, so some op fixes a dynamic size (${err.message})`);
    }))[outputName] as ort.Tensor;
    const want = expected.node.data as HostData;
    const numbers = (d: unknown) => Array.from(d as ArrayLike<number | bigint>, Number);
    const err = mismatch(numbers(out.data), numbers(want));
    if (!(err <= 1e-4)) throw invalid(`the exported model differs from the module's forward on inputs of other sizes (max relative difference ${err})`);
  } finally {
    await session.release();
  }
}
