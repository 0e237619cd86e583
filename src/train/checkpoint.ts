// Checkpoints: parameters + optimizer state + a JSON index in one file, replaced atomically (temp file + rename).
//
// Layout of checkpoint.bin: "GEULCKPT", uint32 JSON byte length, the JSON (CheckpointMeta), zero padding to a multiple
// of 4, then every tensor's float32 data back to back. One file and one rename: a crash or a failed epoch leaves the
// previous checkpoint whole.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import type { TrainState } from './trainer.js';

export interface CheckpointMeta {
  epoch: number;
  step: number;
  best: number;
  /** Anything the run needs to resume (model config, options, history, epochs since the best). */
  run: Record<string, unknown>;
  tensors: { name: string; slot: number; offset: number; length: number }[];
}

const MAGIC = 'GEULCKPT';
export const CHECKPOINT_FILE = 'checkpoint.bin';

/** Writes `data` to `path` through a temporary file and a rename, so readers see the old or the new file, whole. */
export async function writeAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, Array.isArray(data) ? Buffer.concat(data as Uint8Array[]) : (data as string | Uint8Array));
  await rename(tmp, path);
}

export async function saveCheckpoint(dir: string, state: TrainState, meta: Omit<CheckpointMeta, 'tensors' | 'step'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: CheckpointMeta['tensors'] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of state.params) {
    for (const [slot, arr] of [data, ...(state.states.get(name) ?? [])].entries()) {
      tensors.push({ name, slot, offset, length: arr.length });
      chunks.push(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
      offset += arr.length;
    }
  }
  const json = Buffer.from(JSON.stringify({ ...meta, step: state.step, tensors }));
  const header = Buffer.alloc(12 + json.length + ((4 - (json.length % 4)) % 4));
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(json.length, 8);
  json.copy(header, 12);
  await writeAtomic(join(dir, CHECKPOINT_FILE), [header, ...chunks]);
}

export async function loadCheckpoint(dir: string): Promise<{ meta: CheckpointMeta; state: TrainState }> {
  const path = join(dir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw geulError('FILE_NOT_FOUND', { path }, err);
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) throw geulError('DATA_INVALID', { path, where: '', detail: 'not a geul checkpoint' });
  const jsonLength = bytes.readUInt32LE(8);
  const meta = JSON.parse(bytes.toString('utf8', 12, 12 + jsonLength)) as CheckpointMeta;
  const start = 12 + jsonLength + ((4 - (jsonLength % 4)) % 4);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.byteLength));
  const params = new Map<string, Float32Array>();
  const states = new Map<string, Float32Array[]>();
  for (const t of meta.tensors) {
    if (t.offset + t.length > all.length) throw geulError('DATA_INVALID', { path, where: '', detail: `tensor ${t.name} is cut short` });
    const arr = all.slice(t.offset, t.offset + t.length);
    if (t.slot === 0) params.set(t.name, arr);
    else states.set(t.name, [...(states.get(t.name) ?? []), arr]);
  }
  for (const name of params.keys()) if (!states.has(name)) states.set(name, []);
  return { meta, state: { step: meta.step, params, states } };
}
