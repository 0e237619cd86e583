// How the server shares cores out: worker count by default, and ONNX Runtime threads per worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoWorkers, onnxThreadsPerWorker } from '../../src/runtime/pool.js';

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
