// Reads `pytorch_model.bin` (torch.save's zip format): the restricted pickle in `<archive>/data.pkl` names tensors
// whose bytes are the stored entries `<archive>/data/<key>`; each tensor is read from the file on demand.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { geulError } from '../errors.js';
import { unpickleStateDict, type PickleValue, type TensorRecord } from './pickle.js';
import { DTYPE_BYTES, elementCount, readExactly, readFloats, type TensorInfo, type WeightSource, type WeightTensor } from './tensor.js';
import { readStoredZipEntries, type ZipEntry } from './zip-stored.js';

/** The most data.pkl may hold: a state_dict's pickle is names and small tuples, a few MB even for large models. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

export function openTorchCheckpoint(path: string): WeightSource {
  const fd = openSync(path, 'r');
  try {
    const source = openOnFd(fd, path);
    let open = true;
    return {
      ...source,
      read(name: string): WeightTensor {
        if (!open) throw geulError('WEIGHTS_INVALID', { path, detail: 'file already closed' });
        return source.read(name);
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

function openOnFd(fd: number, path: string): Omit<WeightSource, 'close'> {
  const fileSize = fstatSync(fd).size;
  const magic = Buffer.alloc(4);
  readExactly(fd, magic, 0, path);
  if (magic.readUInt32LE(0) !== 0x04034b50) {
    throw geulError('WEIGHTS_INVALID', { path, detail: 'not a zip archive: checkpoints saved by torch before 1.6 (legacy format) are not supported; re-save with torch.save or convert to safetensors' });
  }
  const entries = readStoredZipEntries(fd, fileSize, path);
  const pickleEntry = [...entries.values()].find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pickleEntry) throw geulError('WEIGHTS_INVALID', { path, detail: 'no <archive>/data.pkl entry: not a torch checkpoint' });
  const prefix = pickleEntry.name.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = Buffer.alloc(byteorder.size);
    readExactly(fd, order, byteorder.dataStart, path);
    if (order.toString('latin1') !== 'little') throw geulError('WEIGHTS_INVALID', { path, detail: `byte order "${order.toString('latin1')}" (only little-endian is read)` });
  }
  if (pickleEntry.size > MAX_PICKLE_BYTES) throw geulError('WEIGHTS_INVALID', { path, detail: `data.pkl is ${pickleEntry.size} bytes, too large for a state_dict` });
  const pickleBytes = Buffer.alloc(pickleEntry.size);
  readExactly(fd, pickleBytes, pickleEntry.dataStart, path);
  const records = tensorRecords(unpickleStateDict(pickleBytes, path), path);

  const tensors = new Map<string, TensorInfo>();
  for (const [name, record] of records) {
    const entry = storageEntry(entries, prefix, record, path, name);
    checkExtent(record, entry, path, name);
    tensors.set(name, { dtype: record.storage.dtype, shape: record.shape });
  }
  return {
    path,
    tensors,
    metadata: { format: 'pt' },
    read(name: string): WeightTensor {
      const record = records.get(name);
      if (!record) throw geulError('WEIGHTS_INVALID', { path, detail: `no tensor "${name}"` });
      const entry = storageEntry(entries, prefix, record, path, name);
      return { shape: record.shape, data: readTensor(fd, entry, record, path, name) };
    },
  };
}

/** The top-level OrderedDict: tensor name → record; non-tensor values (a saved `_metadata`, integers) are refused. */
function tensorRecords(value: PickleValue, path: string): Map<string, TensorRecord> {
  if (!(value instanceof Map)) throw geulError('PICKLE_REJECTED', { path, what: 'a top-level object that is not a state_dict' });
  const records = new Map<string, TensorRecord>();
  for (const [key, tensor] of value) {
    const isRecord = typeof tensor === 'object' && tensor !== null && !Array.isArray(tensor) && !(tensor instanceof Map) && tensor.kind === 'tensor';
    if (typeof key !== 'string' || !isRecord) throw geulError('PICKLE_REJECTED', { path, what: `a state_dict entry "${String(key)}" that is not a tensor` });
    records.set(key, tensor);
  }
  return records;
}

function storageEntry(entries: Map<string, ZipEntry>, prefix: string, record: TensorRecord, path: string, name: string): ZipEntry {
  const entry = entries.get(`${prefix}data/${record.storage.key}`);
  if (!entry) throw geulError('WEIGHTS_INVALID', { path, detail: `storage ${record.storage.key} of "${name}" is missing from the archive` });
  return entry;
}

/** Every element the shape and strides reach must lie inside the storage, and the storage inside its zip entry. */
function checkExtent(record: TensorRecord, entry: ZipEntry, path: string, name: string): void {
  const itemBytes = DTYPE_BYTES[record.storage.dtype];
  if (record.storage.numel * itemBytes > entry.size) {
    throw geulError('WEIGHTS_SIZE_MISMATCH', { path, actual: `${entry.size} bytes for storage ${record.storage.key}`, expected: record.storage.numel * itemBytes });
  }
  if (elementCount(record.shape) === 0) return;
  const last = record.offset + record.shape.reduce((sum, size, i) => sum + (size - 1) * record.stride[i]!, 0);
  if (last >= record.storage.numel) {
    throw geulError('WEIGHTS_OFFSETS_INVALID', { path, tensor: name, detail: `element ${last} is past the end of its ${record.storage.numel}-element storage` });
  }
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

function readTensor(fd: number, entry: ZipEntry, record: TensorRecord, path: string, name: string): Float32Array {
  const { shape, stride, offset, storage } = record;
  const count = elementCount(shape);
  const itemBytes = DTYPE_BYTES[storage.dtype];
  if (count === 0) return new Float32Array(0);
  if (isContiguous(shape, stride)) return readFloats(fd, entry.dataStart + offset * itemBytes, count, storage.dtype, path, name);
  // A strided view (rare in a state_dict): read the span it covers, then gather in C order.
  const span = shape.reduce((sum, size, i) => sum + (size - 1) * stride[i]!, 0) + 1;
  const source = readFloats(fd, entry.dataStart + offset * itemBytes, span, storage.dtype, path, name);
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = 0;
    for (let d = 0; d < shape.length; d++) at += index[d]! * stride[d]!;
    out[i] = source[at]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}
