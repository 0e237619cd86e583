// A minimal WebAssembly binary writer (functions, globals, shared memory import, control flow, i32/i64/f32/SIMD ops).
//
// geul's Word2Vec and similarity kernels and the tensor optimizers' Adam kernel are written with it in TypeScript, so
// no toolchain or wasm file is needed: the module bytes are built at start-up in well under a millisecond and validated
// by the engine. It lives in core because both src/words and src/tensor (below words) use it.

/** The engine's WebAssembly API, typed here because Node's type definitions for Node 20 do not declare it. */
export interface WasmModule { readonly __wasmModule?: never }
export interface WasmMemory { readonly buffer: SharedArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export type ValType = 'i32' | 'i64' | 'f32' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, v128: 0x7b };

/** Opcodes without immediates (MVP), by their text-format names. */
const SIMPLE: Record<string, number> = {
  'drop': 0x1a, 'select': 0x1b, 'return': 0x0f,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49, 'i32.gt_s': 0x4a, 'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_u': 0x6e, 'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72,
  'i32.xor': 0x73, 'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76,
  'i64.add': 0x7c, 'i64.sub': 0x7d, 'i64.mul': 0x7e, 'i64.and': 0x83, 'i64.or': 0x84, 'i64.xor': 0x85, 'i64.shl': 0x86,
  'i64.shr_u': 0x88,
  'f32.abs': 0x8b, 'f32.neg': 0x8c, 'f32.sqrt': 0x91, 'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94, 'f32.div': 0x95,
  'f32.min': 0x96, 'f32.max': 0x97,
  'i32.wrap_i64': 0xa7, 'i32.trunc_f32_s': 0xa8, 'i64.extend_i32_u': 0xad, 'f32.convert_i32_s': 0xb2, 'f32.convert_i32_u': 0xb3,
};

/** SIMD opcodes (0xfd prefix) without immediates. */
const SIMD: Record<string, number> = {
  'f32x4.splat': 0x13, 'f32x4.sqrt': 0xe3, 'f32x4.add': 0xe4, 'f32x4.sub': 0xe5, 'f32x4.mul': 0xe6, 'f32x4.div': 0xe7, 'f32x4.max': 0xe9,
};

/** Natural alignment (log2 bytes) of each memory access. */
const MEMORY: Record<string, [prefix: number[], align: number]> = {
  'i32.load': [[0x28], 2], 'i64.load': [[0x29], 3], 'f32.load': [[0x2a], 2], 'i32.load8_u': [[0x2d], 0],
  'i32.store': [[0x36], 2], 'i64.store': [[0x37], 3], 'f32.store': [[0x38], 2],
  'v128.load': [[0xfd, 0x00], 4], 'v128.store': [[0xfd, 0x0b], 4],
};

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(value: number | bigint): number[] {
  let n = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string): number[] => [...uleb(Buffer.byteLength(s)), ...Buffer.from(s, 'utf8')];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** A branch target: `depth` is the nesting level at which its block/loop was opened. */
export interface Label { depth: number }

/** One function body, written in stack-machine order. Methods return `this` so code reads top to bottom. */
export class Fn {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];
  private depth = 0;

  constructor(readonly name: string, readonly params: ValType[], readonly results: ValType[] = []) {}

  /** A new local of `type`; parameters are locals 0..params.length-1. */
  local(type: ValType): number {
    this.extra.push(type);
    return this.params.length + this.extra.length - 1;
  }

  op(...names: string[]): this {
    for (const name of names) {
      if (name in SIMPLE) this.code.push(SIMPLE[name]);
      else if (name in SIMD) this.code.push(0xfd, ...uleb(SIMD[name]));
      else throw new Error(`wasm: unknown opcode ${name}`);
    }
    return this;
  }

  get(i: number): this { this.code.push(0x20, ...uleb(i)); return this; }
  set(i: number): this { this.code.push(0x21, ...uleb(i)); return this; }
  tee(i: number): this { this.code.push(0x22, ...uleb(i)); return this; }
  globalGet(i: number): this { this.code.push(0x23, ...uleb(i)); return this; }
  globalSet(i: number): this { this.code.push(0x24, ...uleb(i)); return this; }
  i32(n: number): this { this.code.push(0x41, ...sleb(n | 0)); return this; }
  i64(n: bigint): this { this.code.push(0x42, ...sleb(BigInt.asIntN(64, n))); return this; }
  f32(x: number): this {
    this.code.push(0x43, ...new Uint8Array(Float32Array.of(x).buffer));
    return this;
  }
  /** `f32x4.extract_lane lane`. */
  lane(lane: number): this { this.code.push(0xfd, 0x1f, lane); return this; }
  /** `v128.const` of four equal floats. */
  v128f(x: number): this {
    this.code.push(0xfd, 0x0c, ...new Uint8Array(Float32Array.of(x, x, x, x).buffer));
    return this;
  }
  mem(name: keyof typeof MEMORY, offset = 0): this {
    const [prefix, align] = MEMORY[name];
    this.code.push(...prefix, ...uleb(align), ...uleb(offset));
    return this;
  }
  call(fn: number): this { this.code.push(0x10, ...uleb(fn)); return this; }

  /** `block … end`; `br(label)` inside jumps past the end. */
  block(body: (exit: Label) => void): this { return this.nest(0x02, body); }
  /** `loop … end`; `br(label)` inside jumps back to the start. */
  loop(body: (start: Label) => void): this { return this.nest(0x03, body); }
  /** `if … (else …) end`, consuming an i32 condition. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    this.depth++;
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.code.push(0x0b);
    this.depth--;
    return this;
  }
  br(label: Label): this { this.code.push(0x0c, ...uleb(this.depth - label.depth)); return this; }
  brIf(label: Label): this { this.code.push(0x0d, ...uleb(this.depth - label.depth)); return this; }

  /** `for (i = start; i < end; i += step)` over i32 locals; `next` skips to the increment (like `continue`). */
  for(i: number, start: () => void, end: () => void, step: number, body: (next: Label) => void): this {
    start();
    this.set(i);
    return this.block((exit) => {
      this.get(i); end(); this.op('i32.ge_s').brIf(exit);
      this.loop((top) => {
        this.block((next) => body(next));
        this.get(i).i32(step).op('i32.add').tee(i); end(); this.op('i32.lt_s').brIf(top);
      });
    });
  }

  private nest(opcode: number, body: (label: Label) => void): this {
    this.code.push(opcode, 0x40);
    const label = { depth: ++this.depth };
    body(label);
    this.code.push(0x0b);
    this.depth--;
    return this;
  }

  /** The code-section entry: locals grouped by type, the body and `end`. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === VALTYPE[t]) last[0]++;
      else groups.push([1, VALTYPE[t]]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface ModuleSpec {
  /** Imported as env.memory: shared, with these page counts (64 KiB pages). */
  memory: { initial: number; maximum: number };
  /** Mutable globals, private to each instance (so each thread has its own). */
  globals: { type: 'i32' | 'i64' | 'f32'; init?: number | bigint }[];
  functions: Fn[];
  /** Names of functions to export (others are internal helpers). */
  exports: string[];
}

/** Encodes a module; function indices follow the order of `functions`. */
export function assemble(spec: ModuleSpec): Uint8Array {
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const signature = (f: Fn): string => `${f.params.join(',')}>${f.results.join(',')}`;
  const types = [...new Set(spec.functions.map(signature))];
  const typeSection = vec(types.map((s) => {
    const [params, results] = s.split('>').map((x) => (x ? x.split(',') as ValType[] : []));
    return [0x60, ...vec(params.map((t) => [VALTYPE[t]])), ...vec(results.map((t) => [VALTYPE[t]]))];
  }));
  const importSection = vec([[...utf8('env'), ...utf8('memory'), 0x02, 0x03, ...uleb(spec.memory.initial), ...uleb(spec.memory.maximum)]]);
  const functionSection = vec(spec.functions.map((f) => uleb(types.indexOf(signature(f)))));
  const globalSection = vec(spec.globals.map((g) => {
    const init = g.type === 'f32' ? [0x43, ...new Uint8Array(Float32Array.of(Number(g.init ?? 0)).buffer)]
      : [g.type === 'i32' ? 0x41 : 0x42, ...sleb(g.init ?? 0)];
    return [VALTYPE[g.type], 0x01, ...init, 0x0b];
  }));
  const exportSection = vec(spec.exports.map((name) => {
    const index = spec.functions.findIndex((f) => f.name === name);
    if (index < 0) throw new Error(`wasm: no function ${name} to export`);
    return [...utf8(name), 0x00, ...uleb(index)];
  }));
  const codeSection = vec(spec.functions.map((f) => f.encode()));
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, typeSection), ...section(2, importSection), ...section(3, functionSection),
    ...(spec.globals.length > 0 ? section(6, globalSection) : []),
    ...section(7, exportSection), ...section(10, codeSection),
  ]);
}

/** True when this engine runs WebAssembly SIMD with shared memory (Node ≥ 16.4 does). */
export function wasmSimdAvailable(): boolean {
  try {
    const f = new Fn('probe', ['i32'], ['f32']);
    f.get(0).mem('v128.load').lane(0);
    return wasm.validate(assemble({ memory: { initial: 1, maximum: 1 }, globals: [], functions: [f], exports: ['probe'] }));
  } catch {
    return false;
  }
}
