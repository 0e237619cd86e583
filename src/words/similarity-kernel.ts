// Cosine scores of query vectors against every unit-length word vector: WebAssembly SIMD, up to four queries per matrix pass.
import { Fn, assemble, wasm, wasmSimdAvailable, type WasmMemory } from '../core/wasm.js';

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE;
/** Queries scored per pass over the matrix (each row is loaded once for all of them). */
export const QUERIES = 4;

/**
 * dotsN(mat, rows, rowBytes, q, out): out[j·rows + r] = ⟨mat_r, q_j⟩ for j < n. Rows are padded to 8 floats, and each
 * step reads 8 of them into two accumulators per query, so the adds of one step do not wait on each other.
 */
function dots(n: number): Fn {
  const f = new Fn(`dots${n}`, ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [mat, rows, rowBytes, q, out] = [0, 1, 2, 3, 4];
  const r = f.local('i32'); const k = f.local('i32'); const row = f.local('i32'); const o = f.local('i32');
  const qs = [q, ...Array.from({ length: n - 1 }, () => f.local('i32'))];
  const acc = Array.from({ length: 2 * n }, () => f.local('v128'));
  const lo = f.local('v128'); const hi = f.local('v128');
  for (let j = 1; j < n; j++) f.get(q).get(rowBytes).i32(j).op('i32.mul', 'i32.add').set(qs[j]);
  f.for(r, () => f.i32(0), () => f.get(rows), 1, () => {
    for (const a of acc) f.v128f(0).set(a);
    f.get(mat).get(r).get(rowBytes).op('i32.mul', 'i32.add').set(row);
    f.for(k, () => f.i32(0), () => f.get(rowBytes), 32, () => {
      f.get(row).get(k).op('i32.add').tee(o).mem('v128.load').set(lo);
      f.get(o).mem('v128.load', 16).set(hi);
      qs.forEach((qj, j) => {
        f.get(acc[2 * j]).get(lo).get(qj).get(k).op('i32.add').tee(o).mem('v128.load').op('f32x4.mul', 'f32x4.add').set(acc[2 * j]);
        f.get(acc[2 * j + 1]).get(hi).get(o).mem('v128.load', 16).op('f32x4.mul', 'f32x4.add').set(acc[2 * j + 1]);
      });
    });
    for (let j = 0; j < n; j++) {
      // out + (j·rows + r)·4
      f.get(out).get(rows).i32(j).op('i32.mul').get(r).op('i32.add').i32(2).op('i32.shl', 'i32.add');
      f.get(acc[2 * j]).get(acc[2 * j + 1]).op('f32x4.add').set(lo);
      f.get(lo).lane(0).get(lo).lane(1).op('f32.add').get(lo).lane(2).get(lo).lane(3).op('f32.add', 'f32.add');
      f.mem('f32.store', 0);
    }
  });
  return f;
}

/** Kernel widths: a group of queries uses the narrowest kernel that holds it, so a lone query pays for one, not four. */
const WIDTHS = [1, 2, QUERIES];

/** Scores against a fixed matrix of unit rows; the matrix lives in wasm memory, padded to 8-float rows. */
export interface Scorer {
  readonly rows: number;
  /** One Float32Array of `limit` scores per query (queries are dim-long, need not be unit length). */
  scores(queries: Float32Array[], limit: number): Float32Array[];
  /** Row i, unit length (a view: do not modify). */
  unitRow(i: number): Float32Array;
}

/** The JavaScript fallback: same results (up to float rounding), one query at a time. */
class JsScorer implements Scorer {
  constructor(private readonly unit: Float32Array, readonly rows: number, private readonly dim: number) {}

  unitRow(i: number): Float32Array {
    return this.unit.subarray(i * this.dim, (i + 1) * this.dim);
  }

  scores(queries: Float32Array[], limit: number): Float32Array[] {
    const { unit, dim } = this;
    return queries.map((q) => {
      const out = new Float32Array(limit);
      for (let r = 0; r < limit; r++) {
        let s0 = 0;
        let s1 = 0;
        const base = r * dim;
        let d = 0;
        for (; d + 1 < dim; d += 2) {
          s0 += unit[base + d] * q[d];
          s1 += unit[base + d + 1] * q[d + 1];
        }
        if (d < dim) s0 += unit[base + d] * q[d];
        out[r] = s0 + s1;
      }
      return out;
    });
  }
}

class WasmScorer implements Scorer {
  private readonly kernels: ((mat: number, rows: number, rowBytes: number, q: number, out: number) => void)[];

  constructor(private readonly memory: WasmMemory, readonly rows: number, private readonly dim: number, private readonly stride: number,
    private readonly queryAt: number, private readonly outAt: number) {
    const pages = memory.buffer.byteLength / PAGE;
    const functions = WIDTHS.map(dots);
    const bytes = assemble({ memory: { initial: pages, maximum: pages }, globals: [], functions, exports: functions.map((f) => f.name) });
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
    this.kernels = functions.map((f) => instance.exports[f.name] as WasmScorer['kernels'][number]);
  }

  unitRow(i: number): Float32Array {
    return new Float32Array(this.memory.buffer, 64 + i * this.stride * 4, this.dim);
  }

  scores(queries: Float32Array[], limit: number): Float32Array[] {
    const rowBytes = this.stride * 4;
    const out: Float32Array[] = [];
    const q = new Float32Array(this.memory.buffer, this.queryAt, QUERIES * this.stride);
    for (let i = 0; i < queries.length; i += QUERIES) {
      q.fill(0);
      const group = queries.slice(i, i + QUERIES);
      group.forEach((v, j) => q.set(v.subarray(0, this.dim), j * this.stride));
      const width = WIDTHS.findIndex((w) => w >= group.length);
      this.kernels[width](64, limit, rowBytes, this.queryAt, this.outAt);
      group.forEach((_, j) => out.push(new Float32Array(this.memory.buffer, this.outAt + j * limit * 4, limit).slice()));
    }
    return out;
  }
}

/** Normalises every row of `data` (rows × dim) to unit length and builds the fastest scorer this engine allows. */
export function createScorer(data: Float32Array, rows: number, dim: number): Scorer {
  const stride = Math.ceil(dim / 8) * 8;
  const matrixBytes = rows * stride * 4;
  const queryAt = 64 + matrixBytes;
  const outAt = queryAt + QUERIES * stride * 4;
  const total = outAt + QUERIES * rows * 4;
  const useWasm = total <= MAX_BYTES && wasmSimdAvailable();
  const pages = Math.ceil(total / PAGE);
  const memory = useWasm ? new wasm.Memory({ initial: pages, maximum: pages, shared: true }) : undefined;
  const unit = memory ? new Float32Array(memory.buffer, 64, rows * stride) : new Float32Array(rows * dim);
  const width = memory ? stride : dim;
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += data[r * dim + d] * data[r * dim + d];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) unit[r * width + d] = data[r * dim + d] * inv;
  }
  return memory ? new WasmScorer(memory, rows, dim, stride, queryAt, outAt) : new JsScorer(unit, rows, dim);
}
