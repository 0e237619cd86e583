// Checkpoint folders: model.safetensors, sharded index (weight_map), pytorch_model.bin, and unsafe shard names.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { openCheckpoint } from '../../../src/core/weights/checkpoint.js';
import { writeSafetensors } from '../../../src/core/weights/safetensors.js';
import type { WeightTensor } from '../../../src/core/weights/tensor.js';
import { torchSave } from '../../helpers/torch-save.js';

const root = mkdtempSync(join(tmpdir(), 'geul-checkpoint-'));
after(() => rmSync(root, { recursive: true, force: true }));

const fails = (code: string, detail?: RegExp) => (err: unknown) =>
  isGeulError(err) && err.code === code && (detail === undefined || detail.test(err.message));

const tensor = (...values: number[]): WeightTensor => ({ shape: [values.length], data: new Float32Array(values) });

function folder(name: string): string {
  const path = join(root, name);
  mkdirSync(path);
  return path;
}

test('a sharded safetensors checkpoint reads each tensor from the shard its weight_map names', () => {
  const dir = folder('sharded');
  writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), new Map([['a', tensor(1, 2)], ['b', tensor(3)]]));
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), new Map([['c', tensor(4, 5, 6)]]));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({
    metadata: { total_size: 24 },
    weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' },
  }));
  const source = openCheckpoint(dir);
  try {
    assert.deepEqual([...source.tensors.keys()].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...source.read('c').data], [4, 5, 6]);
    assert.deepEqual([...source.read('a').data], [1, 2]);
  } finally {
    source.close();
  }
});

test('a sharded pytorch_model.bin checkpoint reads through its index', () => {
  const dir = folder('sharded-bin');
  writeFileSync(join(dir, 'pytorch_model-00001-of-00002.bin'), torchSave([['a', { shape: [2], data: new Float32Array([1, 2]) }]]));
  writeFileSync(join(dir, 'pytorch_model-00002-of-00002.bin'), torchSave([['b', { shape: [1], data: new Float32Array([3]) }]]));
  writeFileSync(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { a: 'pytorch_model-00001-of-00002.bin', b: 'pytorch_model-00002-of-00002.bin' } }));
  const source = openCheckpoint(dir);
  try {
    assert.deepEqual([...source.read('a').data, ...source.read('b').data], [1, 2, 3]);
  } finally {
    source.close();
  }
});

test('a weight_map pointing outside the folder or at a shard without the tensor is refused', () => {
  const dir = folder('escape');
  writeSafetensors(join(dir, 'shard.safetensors'), new Map([['a', tensor(1)]]));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../escape/shard.safetensors' } }));
  assert.throws(() => openCheckpoint(dir), fails('WEIGHTS_INVALID', /not a file name/));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { b: 'shard.safetensors' } }));
  assert.throws(() => openCheckpoint(dir), fails('WEIGHTS_INVALID', /does not contain/));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ files: [] }));
  assert.throws(() => openCheckpoint(dir), fails('WEIGHTS_INVALID', /weight_map/));
});

test('safetensors is preferred over pytorch_model.bin, which is read when alone; an empty folder names what it lacks', () => {
  const both = folder('both');
  writeSafetensors(join(both, 'model.safetensors'), new Map([['w', tensor(1)]]));
  writeFileSync(join(both, 'pytorch_model.bin'), torchSave([['w', { shape: [1], data: new Float32Array([2]) }]]));
  const preferred = openCheckpoint(both);
  assert.deepEqual([...preferred.read('w').data], [1]);
  preferred.close();

  const bin = folder('bin');
  writeFileSync(join(bin, 'pytorch_model.bin'), torchSave([['w', { shape: [1], data: new Float32Array([2]) }]], 'pytorch_model'));
  const torch = openCheckpoint(bin);
  assert.deepEqual([...torch.read('w').data], [2]);
  torch.close();

  assert.throws(() => openCheckpoint(folder('empty')), fails('MODEL_FILE_MISSING', /model\.safetensors/));
});
