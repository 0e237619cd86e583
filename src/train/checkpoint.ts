// Checkpoints: parameters + optimizer state in one binary file with a JSON index, written atomically.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import type { TrainState } from './trainer.js';

export interface CheckpointMeta {
  epoch: number;
  step: number;
  best: number;
  /** Anything the run needs to resume (model config, options). */
  run: Record<string, unknown>;
  tensors: { name: string; slot: number; offset: number; length: number }[];
}

/** Writes checkpoint.bin/json under `dir` via temporary files, so a crash never leaves a half-written checkpoint. */
export async function saveCheckpoint(dir: string, state: TrainState, meta: Omit<CheckpointMeta, 'tensors' | 'step'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: CheckpointMeta['tensors'] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, data] of state.params) {
    for (const [slot, arr] of [data, ...(state.states.get(name) ?? [])].entries()) {
      tensors.push({ name, slot, offset, length: arr.length });
      chunks.push(arr);
      offset += arr.length;
    }
  }
  const buffer = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  await writeFile(join(dir, 'checkpoint.bin.tmp'), buffer);
  await writeFile(join(dir, 'checkpoint.json.tmp'), JSON.stringify({ ...meta, step: state.step, tensors }));
  await rename(join(dir, 'checkpoint.bin.tmp'), join(dir, 'checkpoint.bin'));
  await rename(join(dir, 'checkpoint.json.tmp'), join(dir, 'checkpoint.json'));
}

export async function loadCheckpoint(dir: string): Promise<{ meta: CheckpointMeta; state: TrainState }> {
  let meta: CheckpointMeta;
  let bytes: Buffer;
  try {
    meta = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
    bytes = await readFile(join(dir, 'checkpoint.bin'));
  } catch (err) {
    throw geulError('FILE_NOT_FOUND', { path: join(dir, 'checkpoint.json') }, err);
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const params = new Map<string, Float32Array>();
  const states = new Map<string, Float32Array[]>();
  for (const t of meta.tensors) {
    const arr = all.slice(t.offset, t.offset + t.length);
    if (t.slot === 0) params.set(t.name, arr);
    else states.set(t.name, [...(states.get(t.name) ?? []), arr]);
  }
  for (const name of params.keys()) if (!states.has(name)) states.set(name, []);
  return { meta, state: { step: meta.step, params, states } };
}
