// Writes torch.save's zip checkpoint format byte for byte as torch does (pickle protocol 2, stored 64-byte-aligned entries).
// Test-only: there is no torch at test time, so the reader's fixtures are built here from the documented layout.

/** One tensor of a state_dict; tensors naming the same `storage` key share it (as tied weights do in torch). */
export interface SavedTensor {
  readonly shape: readonly number[];
  /** Float32 values, or the raw 16-bit patterns of a HalfStorage / BFloat16Storage. */
  readonly data: Float32Array | Uint16Array;
  readonly storageType?: 'FloatStorage' | 'HalfStorage' | 'BFloat16Storage';
  readonly storage?: string;
  readonly offset?: number;
  readonly stride?: readonly number[];
}

/** Pickle opcodes as bytes, for building well-formed and malicious streams. */
export const op = {
  proto: (n: number) => Buffer.from([0x80, n]),
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
  // Memo indices past 255 need the 4-byte LONG_BINPUT / LONG_BINGET, as pickle writes them.
  binput: (i: number) => (i < 256 ? Buffer.from([0x71, i]) : Buffer.concat([Buffer.from([0x72]), int32(i)])),
  binget: (i: number) => (i < 256 ? Buffer.from([0x68, i]) : Buffer.concat([Buffer.from([0x6a]), int32(i)])),
  mark: Buffer.from('('),
  emptyTuple: Buffer.from(')'),
  emptyDict: Buffer.from('}'),
  tuple: Buffer.from('t'),
  tuple2: Buffer.from([0x86]),
  reduce: Buffer.from('R'),
  binpersid: Buffer.from('Q'),
  setitem: Buffer.from('s'),
  setitems: Buffer.from('u'),
  build: Buffer.from('b'),
  newfalse: Buffer.from([0x89]),
  stop: Buffer.from('.'),
  int: (n: number) => (n < 256 ? Buffer.from([0x4b, n]) : n < 65536 ? Buffer.from([0x4d, n & 0xff, n >> 8]) : Buffer.concat([Buffer.from('J'), int32(n)])),
  str: (s: string) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([Buffer.from('X'), int32(b.length), b]); },
};

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

/** The pickle torch.save writes for an OrderedDict state_dict (with its `_metadata` attribute dict). */
export function stateDictPickle(tensors: ReadonlyArray<readonly [string, SavedTensor]>, storageSizes: ReadonlyMap<string, number>): Buffer {
  let memo = 0;
  const put = () => op.binput(memo++);
  const parts: Buffer[] = [op.proto(2), op.global('collections', 'OrderedDict'), put()];
  const orderedDictMemo = 0;
  parts.push(op.emptyTuple, op.reduce, put(), op.mark);
  let rebuildMemo = -1;
  let storageWordMemo = -1;
  const typeMemo = new Map<string, number>();
  for (const [name, tensor] of tensors) {
    const key = tensor.storage ?? name;
    parts.push(op.str(name), put());
    if (rebuildMemo < 0) { parts.push(op.global('torch._utils', '_rebuild_tensor_v2')); rebuildMemo = memo; parts.push(put()); } else parts.push(op.binget(rebuildMemo));
    // The persistent id ('storage', torch.FloatStorage, key, 'cpu', numel) is written again for every tensor, even on a
    // shared storage (pickle does not memoize persistent ids); its constant string and class are memo references.
    parts.push(op.mark, op.mark);
    if (storageWordMemo < 0) { parts.push(op.str('storage')); storageWordMemo = memo; parts.push(put()); } else parts.push(op.binget(storageWordMemo));
    const type = tensor.storageType ?? 'FloatStorage';
    if (!typeMemo.has(type)) { parts.push(op.global('torch', type)); typeMemo.set(type, memo); parts.push(put()); } else parts.push(op.binget(typeMemo.get(type)!));
    parts.push(op.str(key), put(), op.str('cpu'), put(), op.int(storageSizes.get(key)!), op.tuple, put(), op.binpersid);
    const stride = tensor.stride ?? contiguousStride(tensor.shape);
    parts.push(op.int(tensor.offset ?? 0), intTuple(tensor.shape), put(), intTuple(stride), put(), op.newfalse,
      op.binget(orderedDictMemo), op.emptyTuple, op.reduce, put(), op.tuple, op.reduce, put());
  }
  parts.push(op.setitems);
  // vars(state_dict) = {'_metadata': OrderedDict({'': {'version': 1}})}, restored with BUILD.
  parts.push(op.emptyDict, put(), op.str('_metadata'), put(), op.binget(orderedDictMemo), op.emptyTuple, op.reduce, put(),
    op.str(''), put(), op.emptyDict, put(), op.str('version'), put(), op.int(1), op.setitem, op.setitem, op.setitem, op.build, op.stop);
  return Buffer.concat(parts);
}

function intTuple(values: readonly number[]): Buffer {
  if (values.length === 0) return op.emptyTuple;
  if (values.length === 1) return Buffer.concat([op.int(values[0]!), Buffer.from([0x85])]);
  if (values.length === 2) return Buffer.concat([op.int(values[0]!), op.int(values[1]!), op.tuple2]);
  return Buffer.concat([op.mark, ...values.map(op.int), op.tuple]);
}

function contiguousStride(shape: readonly number[]): number[] {
  const stride: number[] = [];
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) { stride[i] = step; step *= shape[i]!; }
  return stride;
}

/** A whole torch.save zip for `tensors` under `<archive>/` (torch uses the file's stem or "archive"). */
export function torchSave(tensors: ReadonlyArray<readonly [string, SavedTensor]>, archive = 'archive'): Buffer {
  const storages = new Map<string, Float32Array | Uint16Array>();
  for (const [name, tensor] of tensors) {
    const key = tensor.storage ?? name;
    if (!storages.has(key)) storages.set(key, tensor.data);
  }
  const keyOf = new Map([...storages.keys()].map((k, i) => [k, String(i)]));
  const renamed = tensors.map(([name, t]) => [name, { ...t, storage: keyOf.get(t.storage ?? name)! }] as const);
  const sizes = new Map([...storages].map(([k, d]) => [keyOf.get(k)!, d.length]));
  const entries: Array<[string, Buffer]> = [[`${archive}/data.pkl`, stateDictPickle(renamed, sizes)], [`${archive}/byteorder`, Buffer.from('little')]];
  for (const [key, data] of storages) entries.push([`${archive}/data/${keyOf.get(key)!}`, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  entries.push([`${archive}/version`, Buffer.from('3\n')], [`${archive}/.data/serialization_id`, Buffer.from('1234567890')]);
  return zipStored(entries);
}

/** A zip of stored entries whose data start on 64-byte boundaries, padded with an "FB" extra field as PyTorch's writer does. */
export function zipStored(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const unpadded = offset + 30 + nameBytes.length + 4;
    const padding = (64 - (unpadded % 64)) % 64;
    const extra = Buffer.alloc(4 + padding, 'Z');
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(padding, 2);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    locals.push(local, nameBytes, extra, data);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(data.length, 20);
    record.writeUInt32LE(data.length, 24);
    record.writeUInt16LE(nameBytes.length, 28);
    record.writeUInt32LE(offset, 42);
    central.push(record, nameBytes);
    offset += 30 + nameBytes.length + extra.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
