// Allocation failures of a session run become TRAINING_OUT_OF_MEMORY (suggesting --batch-size/--grad-accum); others pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import { createSession } from '../../src/runtime/sessions.js';
import { createGuarded, isAllocationFailure, runGuarded } from '../../src/train/trainer-memory.js';

test('ORT and V8 allocation failures are recognised; other errors are not', () => {
  assert.ok(isAllocationFailure(new Error('Failed to allocate memory for requested buffer of size 1073741824')));
  assert.ok(isAllocationFailure(new RangeError('Array buffer allocation failed')));
  assert.ok(isAllocationFailure(new Error('std::bad_alloc')));
  assert.ok(!isAllocationFailure(new Error('input \'x\' is missing in \'feeds\'')));
  assert.ok(!isAllocationFailure('Failed to allocate memory'));
});

test('runGuarded: a real failed ORT allocation (a 4 TiB tensor, refused at once) becomes TRAINING_OUT_OF_MEMORY', async () => {
  // The allocator refuses the request outright: nothing is actually consumed, so this is no out-of-memory situation.
  const g = new GraphBuilder('huge');
  const size = g.input('n', 'int64', [1]);
  g.output(g.reduceSum(g.constantOfShape(size, 1), undefined, false), 'sum', { dtype: 'float32', shape: [] });
  const session = await createSession(g.serialize(), { threads: 1 });
  try {
    const feeds = (n: bigint) => ({ n: new ort.Tensor('int64', BigInt64Array.of(n), [1]) });
    await assert.rejects(runGuarded(session, feeds(2n ** 40n), undefined, 64), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TRAINING_OUT_OF_MEMORY');
      assert.match(err.message, /64 rows/);
      assert.match(err.message, /4194304 MiB/);
      assert.match(err.message, /--batch-size/);
      assert.match(err.message, /--grad-accum/);
      return true;
    });
    const ok = await runGuarded(session, feeds(3n), undefined, 1);
    assert.equal((ok['sum']!.data as Float32Array)[0], 3);
    await assert.rejects(runGuarded(session, {}, undefined, 1), (err: Error & { code?: string }) => err.code !== 'TRAINING_OUT_OF_MEMORY');
  } finally {
    await session.release();
  }
});

test('createGuarded: an allocation refused while building (a 32 TiB buffer) becomes TRAINING_OUT_OF_MEMORY; other errors pass', async () => {
  await assert.rejects(createGuarded(async () => new ArrayBuffer(2 ** 45), 32), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TRAINING_OUT_OF_MEMORY');
    assert.match(err.message, /32 rows .*building the training session: Array buffer allocation failed/);
    assert.match(err.message, /--grad-accum/);
    return true;
  });
  await assert.rejects(createGuarded(async () => { throw new Error('graph invalid'); }, 32), /^Error: graph invalid$/);
  assert.equal(await createGuarded(async () => 7, 1), 7);
});
