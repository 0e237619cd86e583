// Checkpoint files: round trip of weights and optimizer state, one file replaced atomically, damaged files rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';

const state = () => ({
  step: 7,
  params: new Map([['a', Float32Array.of(1, 2, 3)], ['b', Float32Array.of(-1)]]),
  states: new Map([['a', [Float32Array.of(0.1, 0.2, 0.3), Float32Array.of(4, 5, 6)]], ['b', []]]),
});

test('save then load returns the same tensors, step and metadata; no temporary files stay behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-ckpt-'));
  await saveCheckpoint(dir, state(), { epoch: 2, best: 0.75, run: { note: 'ünïcode' } });
  await saveCheckpoint(dir, state(), { epoch: 3, best: 0.8, run: { note: 'ünïcode' } });
  const { meta, state: loaded } = await loadCheckpoint(dir);
  assert.equal(meta.epoch, 3);
  assert.equal(meta.best, 0.8);
  assert.equal(meta.run.note, 'ünïcode');
  assert.equal(loaded.step, 7);
  assert.deepEqual(loaded.params, state().params);
  assert.deepEqual(loaded.states, state().states);
  assert.deepEqual(readdirSync(dir), ['checkpoint.bin']);
});

test('a truncated or foreign file is rejected with DATA_INVALID', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-ckpt-'));
  await saveCheckpoint(dir, state(), { epoch: 1, best: 0, run: {} });
  const bytes = readFileSync(join(dir, 'checkpoint.bin'));
  writeFileSync(join(dir, 'checkpoint.bin'), bytes.subarray(0, bytes.length - 8));
  await assert.rejects(loadCheckpoint(dir), { code: 'DATA_INVALID' });
  writeFileSync(join(dir, 'checkpoint.bin'), 'not a checkpoint at all');
  await assert.rejects(loadCheckpoint(dir), { code: 'DATA_INVALID' });
});
