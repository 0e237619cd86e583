// The op layer's contract: ops emit through the Emitter only (no import circle), custom gradients ride on the op
// call, typed emitters write the ONNX codes, and gradients that cannot be built fail with GRAPH_INVALID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { GraphBuilder, type Value } from '../../src/graph/builder.js';
import { gradients } from '../../src/graph/autodiff.js';
import { ONNX_DTYPE } from '../../src/graph/onnx-proto.js';
import { isGeulError } from '../../src/core/errors.js';
import { numbers, runGraph, tensor } from '../helpers/run-graph.js';

const GRAPH = resolve('src/graph');

const rejects = (build: () => unknown, detail: RegExp) =>
  assert.throws(build, (err: unknown) => isGeulError(err) && err.code === 'GRAPH_INVALID' && detail.test(err.message));

function graphFiles(dir = GRAPH): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? graphFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports (type-only ones too: a type import is still a dependency) of every file under src/graph. */
function importGraph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of graphFiles()) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/from\s+['"](\.[^'"]+)['"]/g)].map((m) => resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
    edges.set(relative(GRAPH, file), targets.filter((t) => t.startsWith(GRAPH)).map((t) => relative(GRAPH, t)));
  }
  return edges;
}

test('ops import neither the builder nor its core, and src/graph has no import circle', () => {
  const edges = importGraph();
  for (const [file, targets] of edges) {
    if (!file.startsWith('ops/')) continue;
    assert.deepEqual(targets.filter((t) => t === 'builder.ts' || t === 'graph-core.ts'), [], `${file} imports the builder`);
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    assert.notEqual(state.get(file), 'open', `import circle: ${[...path, file].join(' → ')}`);
    state.set(file, 'open');
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of edges.keys()) visit(file, []);
});

test('a custom gradient given through the op call replaces the registered one', async () => {
  const g = new GraphBuilder('custom');
  const x = g.input('x', 'float32', [3]);
  // Identity forward, but a "straight-through ×3" backward: autodiff must use the attached rule.
  const y = g.op1('Identity', [x], {}, { gradient: { grad: (c) => [g.mul(c.dy[0] as Value, 3)] } });
  const loss = g.reduceSum(g.mul(y, y), undefined, false);
  const [dx] = gradients(g, loss, [x]);
  g.output(dx, 'dx', { dtype: 'float32' });
  const out = await runGraph(g, { x: tensor('float32', [1, 2, -1], [3]) });
  assert.deepEqual(numbers(out.dx), [6, 12, -6]); // 3 · 2x
  assert.equal(g.customGradient(g.nodes.find((n) => n.opType === 'Identity')?.name ?? '')?.reads, undefined);
});

test('a custom gradient reaches the outer values its node reads (as a Scan body reads weights)', async () => {
  const g = new GraphBuilder('reads');
  const x = g.input('x', 'float32', [2]);
  const w = g.param('w', Float32Array.of(5, 7), [2]);
  // The node's visible input is x only; its gradient also names w (the second entry follows the inputs).
  const y = g.op1('Identity', [x], {}, { gradient: { grad: (c) => [c.dy[0], g.mul(c.dy[0] as Value, 2)], reads: [w] } });
  const [dw, dx] = gradients(g, g.reduceSum(y, undefined, false), [w, x]);
  g.output(dw, 'dw', { dtype: 'float32' });
  g.output(dx, 'dx', { dtype: 'float32' });
  const out = await runGraph(g, { x: tensor('float32', [1, 1], [2]) });
  assert.deepEqual(numbers(out.dw), [2, 2]);
  assert.deepEqual(numbers(out.dx), [1, 1]);
});

test('op(…, { shapes }) declares every output and autodiff sees those types', () => {
  const g = new GraphBuilder('shapes');
  const x = g.input('x', 'float32', ['n', 4]);
  const [a, b] = g.op('Split', [x], { axis: 1 }, { outputs: 2, shapes: [['n', 1], ['n', 3]] });
  assert.deepEqual(a.shape, ['n', 1]);
  assert.deepEqual(b.shape, ['n', 3]);
  assert.deepEqual(g.typeOf(b.name)?.shape, ['n', 3]);
  g.output(b, 'b');
  assert.deepEqual(g.outputs.at(-1)?.shape, ['n', 3], 'declared shapes are written on graph outputs');
});

test('withShape declares a shape inference cannot see; it is typed, used downstream and written on outputs', () => {
  const g = new GraphBuilder('with-shape');
  const x = g.input('x', 'float32');
  const y = g.relu(x);
  assert.equal(y.shape, undefined);
  const declared = g.withShape(y, ['batch', 2]);
  assert.deepEqual(g.typeOf(y.name)?.shape, ['batch', 2]);
  assert.deepEqual(g.transpose(declared).shape, [2, 'batch']);
  g.output(declared, 'y');
  assert.deepEqual(g.outputs.at(-1)?.shape, ['batch', 2]);
  const inferred = g.transpose(declared);
  g.output(inferred, 't');
  assert.equal(g.outputs.at(-1)?.shape, undefined, 'an inferred shape stays undeclared');
  rejects(() => g.withShape({ name: 'elsewhere' }, [1]), /not a value of graph with-shape/);
});

test('typed emitters write ONNX dtype codes and the rules type the outputs', () => {
  const g = new GraphBuilder('typed');
  const x = g.input('x', 'int64', [2]);
  const asBool = g.cast(x, 'bool');
  const castNode = g.nodes.at(-1);
  assert.equal(castNode?.attributes.to?.value, ONNX_DTYPE.bool);
  assert.equal(asBool.dtype, 'bool');
  assert.equal(g.op1('Cast', [x], { to: ONNX_DTYPE.float64 }).dtype, 'float64');
  assert.equal(g.lessOrEqual(x, 1).dtype, 'bool');
  assert.equal(g.and(asBool, asBool).dtype, 'bool');
  assert.equal(g.size(x).dtype, 'int64');
  assert.deepEqual(g.op1('ArgMax', [g.input('s', 'float32', [2, 5])], { axis: 1, keepdims: 0 }), { name: g.nodes.at(-1)?.outputs[0], dtype: 'int64', shape: [2] });
});

test('gradients that cannot be built fail with GRAPH_INVALID, naming the node', () => {
  // keepdims: the loss of an input of unknown rank is still reducible without knowing that rank.
  const lossOf = (g: GraphBuilder, y: Value) => g.reduceSum(g.mul(y, y));
  rejects(() => {
    const g = new GraphBuilder('gather-axis');
    const x = g.input('x', 'float32', [2, 3]);
    gradients(g, lossOf(g, g.gather(x, [0, 1], 1)), [x]);
  }, /Gather gradient supports axis 0 only/);
  rejects(() => {
    const g = new GraphBuilder('transpose-rank');
    const x = g.input('x', 'float32');
    gradients(g, lossOf(g, g.transpose(x)), [x]);
  }, /Transpose.*perm or a known rank/);
  rejects(() => {
    const g = new GraphBuilder('layernorm-rank');
    const x = g.input('x', 'float32');
    gradients(g, lossOf(g, g.layerNorm(x, g.param('s', Float32Array.of(1, 1), [2]))), [x]);
  }, /LayerNormalization.*rank/);
  rejects(() => {
    const g = new GraphBuilder('sum-axes');
    const x = g.input('x', 'float32', [2, 3]);
    const axes = g.input('axes', 'int64', [1]);
    gradients(g, lossOf(g, g.op1('ReduceSum', [x, axes], { keepdims: 0 })), [x]);
  }, /ReduceSum gradient needs constant axes/);
  rejects(() => {
    const g = new GraphBuilder('no-rule');
    const x = g.input('x', 'float32', [2]);
    gradients(g, lossOf(g, g.op1('Round', [x])), [x]);
  }, /no gradient for Round/);
  rejects(() => {
    const g = new GraphBuilder('slice-steps');
    const x = g.input('x', 'float32', [4]);
    g.slice(x, g.ints([0]), g.ints([4]), undefined, [2]);
  }, /slice: steps with runtime starts need explicit axes/);
});
