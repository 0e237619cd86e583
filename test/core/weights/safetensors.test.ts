// safetensors: the reference checkpoints read and rewrite bit for bit, F16/BF16 widen, and every malformed layout is refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { openSafetensors, readSafetensors, writeSafetensors } from '../../../src/core/weights/safetensors.js';
import type { WeightTensor } from '../../../src/core/weights/tensor.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fails = (code: string, detail?: RegExp) => (err: unknown) =>
  isGeulError(err) && err.code === code && (detail === undefined || detail.test(err.message));

/** A safetensors file exactly as given: the header object (unpadded) and the data bytes. */
function rawFile(name: string, header: Record<string, unknown>, data: Uint8Array, headerLength?: bigint): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(headerLength ?? BigInt(json.byteLength));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);

test('reads a reference checkpoint and writes it back bit for bit', (t) => {
  const source = sharedDataPath(t, 'reference-encoders', 'bert-cls', 'model.safetensors');
  if (!source) return;
  const expected = JSON.parse(readFileSync(join(source, '..', 'expected.json'), 'utf8')) as { model_safetensors_sha256: string };
  const { tensors, metadata } = readSafetensors(source);
  assert.deepEqual(metadata, { format: 'pt' });
  const query = tensors.get('bert.encoder.layer.0.attention.self.query.weight')!;
  assert.deepEqual(query.shape, [64, 64]);
  assert.equal(query.data.length, 64 * 64);
  // Each tensor owns its buffer: no view into one whole-file copy.
  for (const tensor of tensors.values()) assert.equal(tensor.data.buffer.byteLength, tensor.data.byteLength);

  const copy = join(dir, 'copy.safetensors');
  writeSafetensors(copy, tensors, metadata);
  const sha = createHash('sha256').update(readFileSync(copy)).digest('hex');
  assert.equal(sha, expected.model_safetensors_sha256);
  assert.equal(createHash('sha256').update(readFileSync(source)).digest('hex'), sha);
});

test('F16 and BF16 tensors widen to float32, including subnormals and infinities', () => {
  const half = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]); // 1, -2, 2^-24, inf, ~1/3
  const bfloat = new Uint16Array([0x3f80, 0xc0a0, 0x3eab]); // 1, -5, ~0.334
  const data = Buffer.concat([Buffer.from(half.buffer), Buffer.from(bfloat.buffer)]);
  const path = rawFile('halves.safetensors', {
    a: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
    b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] },
  }, data);
  const { tensors } = readSafetensors(path);
  assert.deepEqual([...tensors.get('a')!.data], [1, -2, 2 ** -24, Infinity, Math.fround(0.333251953125)]);
  assert.deepEqual([...tensors.get('b')!.data], [1, -5, new Float32Array(new Uint32Array([0x3eab0000]).buffer)[0]]);
});

test('an integer buffer such as position_ids is listed but not read as float', () => {
  const path = rawFile('ids.safetensors', { position_ids: { dtype: 'I64', shape: [1, 2], data_offsets: [0, 16] } }, new Uint8Array(16));
  const source = openSafetensors(path);
  try {
    assert.deepEqual(source.tensors.get('position_ids'), { dtype: 'I64', shape: [1, 2], begin: 0, end: 16 });
    assert.throws(() => source.read('position_ids'), fails('WEIGHTS_DTYPE_UNSUPPORTED', /I64/));
  } finally {
    source.close();
  }
});

test('malformed layouts are refused with their own codes', () => {
  const two = f32(1, 2);
  const cases: Array<[string, Record<string, unknown>, Uint8Array, string, RegExp?]> = [
    ['overlap', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, two, 'WEIGHTS_OFFSETS_INVALID', /overlap/],
    ['past-end', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, two, 'WEIGHTS_OFFSETS_INVALID', /past/],
    ['hole', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, two, 'WEIGHTS_OFFSETS_INVALID', /hole/],
    ['reversed', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, two, 'WEIGHTS_OFFSETS_INVALID', /before/],
    ['shape', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, two, 'WEIGHTS_SHAPE_MISMATCH', /needs 12 bytes/],
    ['dtype', { a: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, two, 'WEIGHTS_SHAPE_MISMATCH'],
    ['trailing', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, two, 'WEIGHTS_SIZE_MISMATCH'],
    ['unknown-dtype', { a: { dtype: 'F8_E9', shape: [2], data_offsets: [0, 8] } }, two, 'WEIGHTS_DTYPE_UNSUPPORTED'],
  ];
  for (const [name, header, data, code, detail] of cases) {
    assert.throws(() => readSafetensors(rawFile(`${name}.safetensors`, header, data)), fails(code, detail), name);
  }
});

test('truncated files, oversized headers and non-JSON headers are refused', () => {
  const good = rawFile('good.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1, 2));
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 3));
  assert.throws(() => readSafetensors(truncated), fails('WEIGHTS_OFFSETS_INVALID', /past/));
  const cut = join(dir, 'cut-header.safetensors');
  writeFileSync(cut, bytes.subarray(0, 20));
  assert.throws(() => readSafetensors(cut), fails('WEIGHTS_SIZE_MISMATCH'));
  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, Buffer.alloc(5));
  assert.throws(() => readSafetensors(tiny), fails('WEIGHTS_SIZE_MISMATCH'));
  assert.throws(() => readSafetensors(rawFile('huge.safetensors', {}, new Uint8Array(0), 200_000_000n)), fails('WEIGHTS_HEADER_TOO_LARGE'));
  const garbage = join(dir, 'garbage.safetensors');
  writeFileSync(garbage, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]));
  assert.throws(() => readSafetensors(garbage), fails('WEIGHTS_INVALID', /JSON/));
});

test('writes F32 with a space-padded header, name order and metadata, atomically', () => {
  const path = join(dir, 'written.safetensors');
  const tensors = new Map<string, WeightTensor>([
    ['z.bias', { shape: [3], data: new Float32Array([1, 2, 3]) }],
    ['a.weight', { shape: [2, 2], data: new Float32Array([4, 5, 6, 7]) }],
  ]);
  writeSafetensors(path, tensors, { format: 'pt', note: 'x' });
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  assert.equal(length % 8, 0);
  const headerText = bytes.toString('utf8', 8, 8 + length);
  assert.match(headerText, /^\{"__metadata__":\{"format":"pt","note":"x"\},"a\.weight":\{"dtype":"F32","shape":\[2,2\],"data_offsets":\[0,16\]\},"z\.bias"/);
  assert.match(headerText, /\} *$/);
  const back = readSafetensors(path);
  assert.deepEqual([...back.tensors.get('a.weight')!.data], [4, 5, 6, 7]);
  assert.deepEqual([...back.tensors.get('z.bias')!.data], [1, 2, 3]);

  // A failing write leaves the previous file untouched and no temporary file behind.
  const wrong = new Map<string, WeightTensor>([['a', { shape: [5], data: new Float32Array(2) }]]);
  assert.throws(() => writeSafetensors(path, wrong), fails('WEIGHTS_SHAPE_MISMATCH'));
  assert.deepEqual(readFileSync(path), bytes);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
});
