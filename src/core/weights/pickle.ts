// A restricted unpickler for torch state_dicts: tensor records only, an allow-list of globals, nothing ever executed.
//
// Python's pickle is a small stack machine whose REDUCE opcode calls any importable callable, which is how a malicious
// checkpoint runs code. Here GLOBAL resolves only the names a state_dict needs to tagged values, REDUCE only "calls"
// those by building plain records, and any other opcode or global is refused with PICKLE_REJECTED.
import { geulError } from '../errors.js';
import type { WeightDtype } from './tensor.js';

/** A storage reference from a persistent id: `('storage', torch.FloatStorage, key, location, numel)`. */
export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: WeightDtype;
  readonly key: string;
  readonly numel: number;
}

/** What `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` would build. */
export interface TensorRecord {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

/** `collections.OrderedDict`, kept as a Map in insertion order. */
export type PickleDict = Map<PickleValue, PickleValue>;
export type PickleValue = null | boolean | number | bigint | string | PickleValue[] | PickleDict | TensorRecord | StorageRef | GlobalRef;

interface GlobalRef {
  readonly kind: 'global';
  readonly name: string;
}

const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  'torch.FloatStorage': 'F32', 'torch.HalfStorage': 'F16', 'torch.BFloat16Storage': 'BF16', 'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64', 'torch.IntStorage': 'I32', 'torch.ShortStorage': 'I16', 'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8', 'torch.BoolStorage': 'BOOL',
};

/** Callables REDUCE may apply; each builds a plain value from already-parsed arguments. */
const CALLABLES: Readonly<Record<string, (args: PickleValue[]) => PickleValue>> = {
  'collections.OrderedDict': (args) => {
    if (args.length !== 0) throw new PickleRefusal('OrderedDict called with arguments');
    return new Map();
  },
  'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor(args),
  'torch._utils._rebuild_tensor': (args) => rebuildTensor(args),
  // nn.Parameter(data, requires_grad, hooks): the data is the tensor.
  'torch._utils._rebuild_parameter': (args) => {
    if (!isTensor(args[0])) throw new PickleRefusal('_rebuild_parameter without a tensor');
    return args[0];
  },
};

/** Internal: caught by unpickle and turned into PICKLE_REJECTED with the file's path. */
class PickleRefusal extends Error {}

function isTensor(value: PickleValue | undefined): value is TensorRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && value.kind === 'tensor';
}

function isStorage(value: PickleValue | undefined): value is StorageRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && value.kind === 'storage';
}

function intList(value: PickleValue | undefined, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new PickleRefusal(`a tensor ${what} that is not a tuple of non-negative integers`);
  }
  return value as number[];
}

function rebuildTensor(args: PickleValue[]): TensorRecord {
  const [storage, offset, size, stride] = args;
  if (!isStorage(storage)) throw new PickleRefusal('a tensor rebuilt from something other than a storage');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new PickleRefusal('a tensor with an invalid storage offset');
  const shape = intList(size, 'size');
  const strides = intList(stride, 'stride');
  if (shape.length !== strides.length) throw new PickleRefusal('a tensor whose size and stride differ in length');
  return { kind: 'tensor', storage, offset, shape, stride: strides };
}

function persistentLoad(pid: PickleValue): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== 5) throw new PickleRefusal('a persistent id that is not a storage record');
  const [, type, key, , numel] = pid;
  const dtype = typeof type === 'object' && type !== null && !Array.isArray(type) && !(type instanceof Map) && type.kind === 'global'
    ? STORAGE_DTYPES[type.name] : undefined;
  if (!dtype) throw new PickleRefusal('a storage of an unknown type');
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new PickleRefusal('a storage with an invalid key');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new PickleRefusal('a storage with an invalid size');
  return { kind: 'storage', dtype, key, numel };
}

function resolveGlobal(module: string, name: string): GlobalRef {
  const full = `${module}.${name}`;
  if (!Object.hasOwn(CALLABLES, full) && !Object.hasOwn(STORAGE_DTYPES, full)) throw new PickleRefusal(`the global ${full}`);
  return { kind: 'global', name: full };
}

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

/** Parses a state_dict pickle; throws PICKLE_REJECTED (naming the opcode or global) for anything outside the allow-list. */
export function unpickleStateDict(bytes: Uint8Array, path: string): PickleValue {
  try {
    return run(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof PickleRefusal) throw geulError('PICKLE_REJECTED', { path, what: err.message });
    if (err instanceof RangeError) throw geulError('PICKLE_REJECTED', { path, what: 'a truncated or corrupt opcode stream' });
    throw err;
  }
}

function run(data: Buffer): PickleValue {
  const stack: Slot[] = [];
  const memo = new Map<number, PickleValue>();
  let at = 0;
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === MARK) throw new PickleRefusal('a corrupt stack (pop past a mark)');
    return value;
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) throw new PickleRefusal('a corrupt stack');
    return value;
  };
  const popMark = (): PickleValue[] => {
    const mark = stack.lastIndexOf(MARK);
    if (mark < 0) throw new PickleRefusal('a corrupt stack (no mark)');
    const items = stack.splice(mark) as PickleValue[];
    items.shift();
    return items;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, at);
    if (end < 0) throw new RangeError('unterminated line');
    const text = data.toString('latin1', at, end);
    at = end + 1;
    return text;
  };
  const text = (length: number): string => {
    if (at + length > data.length) throw new RangeError('string past the end');
    const value = data.toString('utf8', at, at + length);
    at += length;
    return value;
  };
  const setItems = (dict: PickleValue, items: PickleValue[]) => {
    if (!(dict instanceof Map)) throw new PickleRefusal('SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
  };

  for (;;) {
    const op = data.readUInt8(at++);
    switch (op) {
      case 0x80: at++; break; // PROTO n
      case 0x95: at += 8; break; // FRAME (protocol 4): a length hint only
      case 0x2e: return pop(); // STOP
      case 0x28: stack.push(MARK); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(data.readUInt8(at)); at += 1; break; // BININT1
      case 0x4d: stack.push(data.readUInt16LE(at)); at += 2; break; // BININT2
      case 0x4a: stack.push(data.readInt32LE(at)); at += 4; break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = data.readUInt8(at++);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(data.readUInt8(at + i));
        if (n > 0 && data.readUInt8(at + n - 1) & 0x80) value -= 1n << BigInt(8 * n);
        at += n;
        stack.push(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
        break;
      }
      case 0x47: stack.push(data.readDoubleBE(at)); at += 8; break; // BINFLOAT
      case 0x58: { const n = data.readUInt32LE(at); at += 4; stack.push(text(n)); break; } // BINUNICODE
      case 0x8c: { const n = data.readUInt8(at); at += 1; stack.push(text(n)); break; } // SHORT_BINUNICODE
      case 0x63: { const module = line(); stack.push(resolveGlobal(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleRefusal('STACK_GLOBAL without names');
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x71: memo.set(data.readUInt8(at), top()); at += 1; break; // BINPUT
      case 0x72: memo.set(data.readUInt32LE(at), top()); at += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const key = op === 0x68 ? data.readUInt8(at) : data.readUInt32LE(at);
        at += op === 0x68 ? 1 : 4;
        if (!memo.has(key)) throw new PickleRefusal(`a memo reference ${key} never stored`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x61: { const value = pop(); const list = top(); if (!Array.isArray(list)) throw new PickleRefusal('APPEND to a non-list'); list.push(value); break; }
      case 0x65: { const items = popMark(); const list = top(); if (!Array.isArray(list)) throw new PickleRefusal('APPENDS to a non-list'); list.push(...items); break; }
      case 0x73: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x52: { // REDUCE: only allow-listed callables, which build records
        const args = pop();
        const callable = pop();
        const name = typeof callable === 'object' && callable !== null && !Array.isArray(callable) && !(callable instanceof Map) && callable.kind === 'global'
          ? callable.name : undefined;
        const build = name === undefined ? undefined : CALLABLES[name];
        if (!build) throw new PickleRefusal(`REDUCE of ${name ?? 'a value that is not a callable'}`);
        if (!Array.isArray(args)) throw new PickleRefusal(`REDUCE of ${name} without an argument tuple`);
        stack.push(build(args));
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's attribute dict (torch's `_metadata`), which is dropped
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map || state === null)) throw new PickleRefusal('BUILD of an object other than a dict');
        break;
      }
      default:
        throw new PickleRefusal(`opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
