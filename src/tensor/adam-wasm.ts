// Adam's per-parameter update as a WebAssembly SIMD kernel, the moments resident in its memory (four lanes a step).
//
// Why: the fused JavaScript loop (optim-kernels.ts) computes in float64 one element at a time, and for a large model
// its square root and division were a third of the step (784-512-512-10: ~4 of 11 ms CPU). Here each step of the
// loop does four lanes in float32, as torch does. Parameters and gradients are copied in (ONNX Runtime cannot feed or
// fetch through the shared memory wasm needs here) and the new values copied out into the parameter's new array; the
// moments never leave the memory. The JavaScript loop stays for SparseAdam's row test and engines without SIMD.
import { Fn, assemble, wasm, wasmSimdAvailable, type WasmMemory } from '../core/wasm.js';
import type { AdamScalars } from './optim-kernels.js';

const PAGE = 65536;
/** Above this the optimizer keeps to the JavaScript loop (a shared memory reserves its maximum up front). */
const MAX_BYTES = 2 ** 31;
const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * adam(p, g, m, v, bytes, b1, b2, 1−b1, 1−b2, stepSize, c2, eps, l2, decay) over `bytes` (a multiple of 16) at those
 * byte offsets: d = g + l2·p; m = b1·m + (1−b1)·d; v = b2·v + (1−b2)·d²; p = p·decay − stepSize·m / (√v·c2 + eps).
 */
function adamFn(): Fn {
  const f = new Fn('adam', ['i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  const [p, g, m, v, bytes] = [0, 1, 2, 3, 4];
  const scalars = [5, 6, 7, 8, 9, 10, 11, 12, 13].map((arg) => {
    const lanes = f.local('v128');
    f.get(arg).op('f32x4.splat').set(lanes);
    return lanes;
  });
  const [b1, b2, k1, k2, stepSize, c2, eps, l2, decay] = scalars;
  const i = f.local('i32');
  const [pv, d, mv, vv] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  f.for(i, () => f.i32(0), () => f.get(bytes), 16, () => {
    f.get(p).get(i).op('i32.add').mem('v128.load').set(pv);
    // d = g + l2·p
    f.get(g).get(i).op('i32.add').mem('v128.load').get(l2).get(pv).op('f32x4.mul', 'f32x4.add').set(d);
    // m = b1·m + k1·d (stored)
    f.get(m).get(i).op('i32.add');
    f.get(b1).get(m).get(i).op('i32.add').mem('v128.load').op('f32x4.mul').get(k1).get(d).op('f32x4.mul', 'f32x4.add').tee(mv);
    f.mem('v128.store');
    // v = b2·v + k2·d·d (stored)
    f.get(v).get(i).op('i32.add');
    f.get(b2).get(v).get(i).op('i32.add').mem('v128.load').op('f32x4.mul').get(k2).get(d).op('f32x4.mul').get(d).op('f32x4.mul', 'f32x4.add').tee(vv);
    f.mem('v128.store');
    // p = p·decay − stepSize·m / (√v·c2 + eps) (stored)
    f.get(p).get(i).op('i32.add');
    f.get(pv).get(decay).op('f32x4.mul');
    f.get(stepSize).get(mv).op('f32x4.mul');
    f.get(vv).op('f32x4.sqrt').get(c2).op('f32x4.mul').get(eps).op('f32x4.add');
    f.op('f32x4.div', 'f32x4.sub').mem('v128.store');
  });
  return f;
}

let compiled: ReturnType<typeof compile> | undefined;
function compile() {
  const fn = adamFn();
  return new wasm.Module(assemble({ memory: { initial: 1, maximum: MAX_BYTES / PAGE }, globals: [], functions: [fn], exports: [fn.name] }));
}

type AdamExport = (p: number, g: number, m: number, v: number, bytes: number, ...scalars: number[]) => void;

/** Adam's moments for a fixed list of parameter sizes, and the kernel that updates one parameter with them. */
export class WasmAdam {
  private readonly memory: WasmMemory;
  private readonly adam: AdamExport;
  private readonly view: Float32Array;
  /** Byte offsets: the scratch parameter and gradient, then each parameter's m and v. */
  private readonly scratch: [number, number];
  private readonly slots: [number, number][] = [];

  private constructor(readonly sizes: readonly number[], bytes: number) {
    const pages = Math.ceil(bytes / PAGE);
    this.memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
    compiled ??= compile();
    this.adam = new wasm.Instance(compiled, { env: { memory: this.memory } }).exports.adam as AdamExport;
    this.view = new Float32Array(this.memory.buffer);
    const largest = pad4(Math.max(...sizes)) * 4;
    this.scratch = [0, largest];
    let at = 2 * largest;
    for (const n of sizes) {
      const b = pad4(n) * 4;
      this.slots.push([at, at + b]);
      at += 2 * b;
    }
  }

  /** A kernel for parameters of these sizes (element counts), or undefined where SIMD is missing or memory too large. */
  static create(sizes: readonly number[]): WasmAdam | undefined {
    const largest = pad4(Math.max(0, ...sizes)) * 4;
    const bytes = 2 * largest + sizes.reduce((a, n) => a + 2 * pad4(n) * 4, 0);
    if (sizes.length === 0 || bytes > MAX_BYTES || !wasmSimdAvailable()) return undefined;
    return new WasmAdam(sizes, bytes);
  }

  /** Zeroes parameter `index`'s moments (its first update). */
  reset(index: number): void {
    const [m, v] = this.slots[index];
    const n = pad4(this.sizes[index]);
    this.view.fill(0, m / 4, m / 4 + n);
    this.view.fill(0, v / 4, v / 4 + n);
  }

  /** One Adam step of parameter `index` (values `p`, gradient `g`), the new values written into `out`. */
  update(index: number, p: Float32Array, g: Float32Array, out: Float32Array, s: AdamScalars): void {
    const [pAt, gAt] = this.scratch;
    const [m, v] = this.slots[index];
    const n = p.length;
    this.view.set(p, pAt / 4);
    this.view.set(g, gAt / 4);
    this.adam(pAt, gAt, m, v, pad4(n) * 4, s.b1, s.b2, 1 - s.b1, 1 - s.b2, s.stepSize, s.correction2, s.eps, s.l2, s.decay);
    out.set(this.view.subarray(pAt / 4, pAt / 4 + n));
  }

  /** Copies of parameter `index`'s moments (for tests). */
  moments(index: number): [Float32Array, Float32Array] {
    const n = this.sizes[index];
    return this.slots[index].map((at) => this.view.slice(at / 4, at / 4 + n)) as [Float32Array, Float32Array];
  }
}
