// Sessions over geul-built graphs: option defaults (memory pattern and spinning off) and in-place fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import { createSession, sessionOptions } from '../../src/runtime/sessions.js';

test('session options: memory pattern off unless asked, threads and extra options passed through', () => {
  assert.equal(sessionOptions().enableMemPattern, false);
  assert.equal(sessionOptions({ memoryPattern: true }).enableMemPattern, true);
  assert.deepEqual(sessionOptions({ threads: 2 }), {
    graphOptimizationLevel: 'all', enableMemPattern: false, intraOpNumThreads: 2, interOpNumThreads: 1,
    extra: { 'session.intra_op.allow_spinning': '0' },
  });
  assert.equal(sessionOptions({ extra: { enableMemPattern: true } }).enableMemPattern, true);
  assert.deepEqual(sessionOptions({ spinning: true }).extra, { 'session.intra_op.allow_spinning': '1' });
  // Extra config entries merge with (and may override) the spinning entry.
  assert.deepEqual(sessionOptions({ extra: { extra: { 'session.intra_op.allow_spinning': '1', 'session.other': 'x' } } }).extra,
    { 'session.intra_op.allow_spinning': '1', 'session.other': 'x' });
});

test('a preallocated fetch is written in place, and the session is released once', async () => {
  const g = new GraphBuilder('double');
  const x = g.input('x', 'float32', [3]);
  g.output(g.mul(x, g.scalar(2)), 'y');
  const session = await createSession(g.serialize(), { threads: 1 });
  const target = new Float32Array(3);
  await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]) }, { y: new ort.Tensor('float32', target, [3]) });
  assert.deepEqual(Array.from(target), [2, 4, 6]);
  await session.release();
  await session.release();
});
