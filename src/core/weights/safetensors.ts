// safetensors read and write, by hand per the spec (huggingface/safetensors): validated header, fd reads, atomic F32/F16 writes.
//
// Why by hand: no maintained npm package reads tensors one at a time from a file descriptor while validating offsets,
// sizes and header limits as required here (the few listed load the whole file into one buffer), and the format is small:
// u64 little-endian header length N, N bytes of JSON (padded with spaces), then the data buffer that `data_offsets` index.
import { closeSync, fstatSync, openSync, writeSync, fsyncSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { geulError } from '../errors.js';
import {
  DTYPE_BYTES, elementCount, isWeightDtype, readExactly, readFloats,
  type HalfWeightTensor, type TensorInfo, type WeightDtype, type WeightSource, type WeightTensor,
} from './tensor.js';

/** The Rust reference implementation's limit; a larger header means a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

interface Entry extends TensorInfo {
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly entries: ReadonlyMap<string, Entry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute file position of the data buffer (8 + header length). */
  readonly dataStart: number;
}

/** Opens a safetensors file and validates its header against the file size; tensors are read on demand. */
export function openSafetensors(path: string): WeightSource {
  const fd = openSync(path, 'r');
  try {
    const header = readSafetensorsHeader(fd, path, fstatSync(fd).size);
    let open = true;
    return {
      path,
      tensors: header.entries,
      metadata: header.metadata,
      read(name: string): WeightTensor {
        const entry = header.entries.get(name);
        if (!entry || !open) throw geulError('WEIGHTS_INVALID', { path, detail: open ? `no tensor "${name}"` : 'file already closed' });
        return { shape: entry.shape, data: readFloats(fd, header.dataStart + entry.begin, elementCount(entry.shape), entry.dtype, path, name) };
      },
      close(): void {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Reads every tensor of a safetensors file (each into its own Float32Array). */
export function readSafetensors(path: string): { tensors: Map<string, WeightTensor>; metadata: Record<string, string> } {
  const source = openSafetensors(path);
  try {
    const tensors = new Map<string, WeightTensor>();
    for (const name of source.tensors.keys()) tensors.set(name, source.read(name));
    return { tensors, metadata: { ...source.metadata } };
  } finally {
    source.close();
  }
}

export function readSafetensorsHeader(fd: number, path: string, fileSize: number): SafetensorsHeader {
  if (fileSize < 8) throw geulError('WEIGHTS_SIZE_MISMATCH', { path, actual: fileSize, expected: 'at least 8' });
  const lengthBytes = new Uint8Array(8);
  readExactly(fd, lengthBytes, 0, path);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw geulError('WEIGHTS_HEADER_TOO_LARGE', { path, bytes: headerLength.toString(), limit: MAX_HEADER_BYTES });
  }
  const length = Number(headerLength);
  if (8 + length > fileSize) throw geulError('WEIGHTS_SIZE_MISMATCH', { path, actual: fileSize, expected: `a header of ${length} bytes after the 8-byte length` });
  const jsonBytes = new Uint8Array(length);
  readExactly(fd, jsonBytes, 8, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(jsonBytes));
  } catch {
    throw geulError('WEIGHTS_INVALID', { path, detail: 'the header is not valid UTF-8 JSON' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw geulError('WEIGHTS_INVALID', { path, detail: 'the header is not a JSON object' });
  }
  const dataSize = fileSize - 8 - length;
  const { entries, metadata } = parseEntries(parsed as Record<string, unknown>, path);
  checkLayout(entries, dataSize, fileSize, path);
  return { entries, metadata, dataStart: 8 + length };
}

function parseEntries(header: Record<string, unknown>, path: string): { entries: Map<string, Entry>; metadata: Record<string, string> } {
  const metadata: Record<string, string> = {};
  const entries = new Map<string, Entry>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null) throw geulError('WEIGHTS_INVALID', { path, detail: '__metadata__ is not an object' });
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== 'string') throw geulError('WEIGHTS_INVALID', { path, detail: `__metadata__.${key} is not a string` });
        metadata[key] = text;
      }
      continue;
    }
    const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const { dtype, shape, data_offsets: offsets } = record;
    if (!isWeightDtype(dtype)) throw geulError('WEIGHTS_DTYPE_UNSUPPORTED', { path, tensor: name, dtype: String(dtype), supported: Object.keys(DTYPE_BYTES).join(', ') });
    if (!Array.isArray(shape) || !shape.every(isCount)) throw geulError('WEIGHTS_INVALID', { path, detail: `tensor "${name}" has no valid shape` });
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: 'data_offsets must be two non-negative integers' });
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: `end ${end} is before begin ${begin}` });
    const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
    if (expected !== end - begin) {
      throw geulError('WEIGHTS_SHAPE_MISMATCH', { path, tensor: name, dtype, shape: (shape as number[]).join(', '), expected, actual: end - begin });
    }
    entries.set(name, { dtype: dtype as WeightDtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata };
}

/** The data buffer must be covered exactly: no offset past its end, no overlap, no hole, nothing after the last tensor. */
function checkLayout(entries: Map<string, Entry>, dataSize: number, fileSize: number, path: string): void {
  const ordered = [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let covered = 0;
  for (const [name, entry] of ordered) {
    if (entry.end > dataSize) {
      throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: `bytes ${entry.begin}–${entry.end} run past the ${dataSize}-byte data buffer (truncated file?)` });
    }
    if (entry.begin < covered) throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: `bytes ${entry.begin}–${entry.end} overlap another tensor (ending at ${covered})` });
    if (entry.begin > covered) throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: `a hole of ${entry.begin - covered} bytes precedes it` });
    covered = entry.end;
  }
  if (covered !== dataSize) throw geulError('WEIGHTS_SIZE_MISMATCH', { path, actual: fileSize, expected: fileSize - dataSize + covered });
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Writes float32 tensors (F32) and float16 ones (F16, Uint16Array bits) as safetensors: tensors in name order, header padded with spaces to a multiple of 8 (so the
 * data buffer is 8-byte aligned), `__metadata__` first. Written to a temporary file, synced, then renamed into place,
 * so a crash never leaves a half-written checkpoint under the final name.
 */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, WeightTensor | HalfWeightTensor>, metadata: Record<string, string> = {}): void {
  const names = [...tensors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name)!;
    const bytes = tensor.data.byteLength;
    const dtype: WeightDtype = tensor.data instanceof Uint16Array ? 'F16' : 'F32';
    if (elementCount(tensor.shape) * DTYPE_BYTES[dtype] !== bytes) {
      throw geulError('WEIGHTS_SHAPE_MISMATCH', { path, tensor: name, dtype, shape: tensor.shape.join(', '), expected: elementCount(tensor.shape) * DTYPE_BYTES[dtype], actual: bytes });
    }
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(json.byteLength));

  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(temp, 'wx');
  let closed = false;
  try {
    writeAll(fd, lengthBytes);
    writeAll(fd, json);
    for (const name of names) {
      const { data } = tensors.get(name)!;
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temp, path);
  } catch (err) {
    if (!closed) closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
