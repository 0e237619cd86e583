// Finds and opens the weights of a Hugging Face checkpoint folder: model.safetensors, its sharded index, or pytorch_model.bin.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { geulError } from '../errors.js';
import { openSafetensors } from './safetensors.js';
import { openTorchCheckpoint } from './torch-checkpoint.js';
import type { TensorInfo, WeightSource, WeightTensor } from './tensor.js';

/** The files a checkpoint folder may hold its weights in, in the order Hugging Face prefers them. */
export const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

/** Opens the weights of `folder` as one source; shards stay separate files and are read tensor by tensor. */
export function openCheckpoint(folder: string): WeightSource {
  for (const file of WEIGHT_FILES) {
    const path = join(folder, file);
    if (!existsSync(path)) continue;
    if (file.endsWith('.index.json')) return openSharded(path, file.startsWith('model.') ? openSafetensors : openTorchCheckpoint);
    return file.endsWith('.bin') ? openTorchCheckpoint(path) : openSafetensors(path);
  }
  throw geulError('MODEL_FILE_MISSING', { model: folder, file: WEIGHT_FILES.join(' or ') });
}

/** A sharded checkpoint: `weight_map` names, for each tensor, the shard file (next to the index) that holds it. */
export function openSharded(indexPath: string, openShard: (path: string) => WeightSource): WeightSource {
  const folder = join(indexPath, '..');
  const weightMap = readWeightMap(indexPath);
  const shards = new Map<string, WeightSource>();
  const owner = new Map<string, WeightSource>();
  const tensors = new Map<string, TensorInfo>();
  try {
    for (const [name, file] of weightMap) {
      let shard = shards.get(file);
      if (!shard) {
        shard = openShard(join(folder, file));
        shards.set(file, shard);
      }
      const info = shard.tensors.get(name);
      if (!info) throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: `"${name}" is mapped to ${file}, which does not contain it` });
      tensors.set(name, info);
      owner.set(name, shard);
    }
  } catch (err) {
    for (const shard of shards.values()) shard.close();
    throw err;
  }
  return {
    path: indexPath,
    tensors,
    metadata: {},
    read(name: string): WeightTensor {
      const shard = owner.get(name);
      if (!shard) throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: `no tensor "${name}"` });
      return shard.read(name);
    },
    close(): void {
      for (const shard of shards.values()) shard.close();
    },
  };
}

function readWeightMap(indexPath: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch {
    throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: 'not valid JSON' });
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: 'no "weight_map" object' });
  const result = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    // A shard is a file next to the index; anything else could read outside the checkpoint folder.
    if (typeof file !== 'string' || file !== basename(file) || file.startsWith('.')) {
      throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: `shard "${String(file)}" of "${name}" is not a file name in the checkpoint folder` });
    }
    result.set(name, file);
  }
  return result;
}
