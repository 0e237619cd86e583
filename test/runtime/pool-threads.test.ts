// How the server shares cores out: worker count by default, and ONNX Runtime threads per worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool, autoWorkers, onnxThreadsPerWorker, siblingWorker, wideWorkerThreads } from '../../src/runtime/pool.js';

test('auto workers: one per core, 1 to 4', () => {
  assert.deepEqual([1, 2, 3, 4, 16].map((cores) => autoWorkers(cores)), [1, 2, 3, 4, 4]);
});

test('ONNX threads per worker: the cores shared among the workers, at least 1; a configured count wins', () => {
  assert.equal(onnxThreadsPerWorker(2, 0, 2), 1);
  assert.equal(onnxThreadsPerWorker(1, 0, 2), 2);
  assert.equal(onnxThreadsPerWorker(4, 0, 16), 4);
  assert.equal(onnxThreadsPerWorker(4, 0, 2), 1);
  assert.equal(onnxThreadsPerWorker(2, 3, 2), 3);
});

test('wide worker threads: every core when the split leaves each worker fewer; none when off or threads are configured', () => {
  assert.equal(wideWorkerThreads(2, 0, true, 2), 2);
  assert.equal(wideWorkerThreads(4, 0, true, 16), 16);
  assert.equal(wideWorkerThreads(1, 0, true, 2), 0, 'one worker already has every core');
  assert.equal(wideWorkerThreads(2, 1, true, 2), 0, 'a configured thread count wins');
  assert.equal(wideWorkerThreads(2, 0, false, 2), 0);
  assert.equal(wideWorkerThreads(1, 0, true, 1), 0);
});

test('the wide worker takes only calls that allow it and find the pool idle', async () => {
  const worker = siblingWorker(new URL('../helpers/echo-worker.ts', import.meta.url).href, 'echo-worker');
  const pool = new WorkerPool({ ...worker, threads: 2, maxQueue: 8, workerData: { label: 'narrow' }, wide: { workerData: { label: 'wide' } } });
  try {
    assert.equal(pool.stats.threads, 3);
    assert.equal(await pool.run('x', {}, { widen: true }), 'wide', 'a lone call that allows it');
    assert.equal(await pool.run('x', {}), 'narrow', 'a call that does not allow it');
    const busy = pool.run('x', { delayMs: 300 });
    assert.equal(await pool.run('x', {}, { widen: true }), 'narrow', 'the pool is not idle: the one-thread workers share the cores');
    assert.equal(await busy, 'narrow');
    assert.equal(await pool.run('x', {}, { widen: true, signal: new AbortController().signal }), 'wide', 'with a port too');
    assert.equal(pool.wideCalls, 2);
  } finally {
    await pool.close();
  }
});
