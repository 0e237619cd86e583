// Checkpoints: parameters + optimizer state + a JSON index in one file, replaced atomically (temp file + rename).
//
// Layout of checkpoint.bin: "GEULCKPT", uint32 JSON byte length, the JSON (CheckpointMeta), zero padding to a multiple
// of 4, then every tensor's data back to back (float32; int32 row ids). One file and one rename: a crash or a failed
// epoch leaves the previous checkpoint whole. Sparse embedding tables are stored by their touched rows only (ids,
// then those rows of the table and of each optimizer state): the others still hold their seeded initial values and
// zero optimizer state, which a resume recreates.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import type { TrainState } from './trainer.js';

export interface CheckpointMeta {
  epoch: number;
  step: number;
  best: number;
  /** Anything the run needs to resume (model config, options, history, epochs since the best). */
  run: Record<string, unknown>;
  /** slot 0: the parameter, 1…: optimizer states; -1: int32 row ids of a table stored by rows (`width` floats each). */
  tensors: { name: string; slot: number; offset: number; length: number; width?: number }[];
}

const MAGIC = 'GEULCKPT';
export const CHECKPOINT_FILE = 'checkpoint.bin';

export async function saveCheckpoint(dir: string, state: TrainState, meta: Omit<CheckpointMeta, 'tensors' | 'step'>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: CheckpointMeta['tensors'] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const push = (entry: { name: string; slot: number; width?: number }, arr: Float32Array | Int32Array) => {
    tensors.push({ ...entry, offset, length: arr.length });
    chunks.push(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    offset += arr.length;
  };
  for (const [name, data] of state.params) {
    const all = [data, ...(state.states.get(name) ?? [])];
    const touched = state.touched?.get(name);
    if (!touched) {
      all.forEach((arr, slot) => push({ name, slot }, arr));
      continue;
    }
    const width = data.length / touched.length;
    const ids: number[] = [];
    touched.forEach((t, i) => t && ids.push(i));
    push({ name, slot: -1, width }, Int32Array.from(ids));
    all.forEach((arr, slot) => {
      const rows = new Float32Array(ids.length * width);
      ids.forEach((id, u) => rows.set(arr.subarray(id * width, (id + 1) * width), u * width));
      push({ name, slot, width }, rows);
    });
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
  const body = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.byteLength);
  const all = new Float32Array(body);
  const params = new Map<string, Float32Array>();
  const states = new Map<string, Float32Array[]>();
  const rows = new Map<string, { ids: Int32Array; width: number; slots: Float32Array[] }>();
  for (const t of meta.tensors) {
    if (t.offset + t.length > all.length) throw geulError('DATA_INVALID', { path, where: '', detail: `tensor ${t.name} is cut short` });
    if (t.slot === -1) {
      rows.set(t.name, { ids: new Int32Array(body.slice(t.offset * 4, (t.offset + t.length) * 4)), width: t.width ?? 1, slots: [] });
      continue;
    }
    const arr = all.slice(t.offset, t.offset + t.length);
    const sparse = rows.get(t.name);
    if (sparse && t.width !== undefined) sparse.slots.push(arr);
    else if (t.slot === 0) params.set(t.name, arr);
    else states.set(t.name, [...(states.get(t.name) ?? []), arr]);
  }
  for (const name of params.keys()) if (!states.has(name)) states.set(name, []);
  return { meta, state: { step: meta.step, params, states, ...(rows.size > 0 && { rows }) } };
}
