// Exact top-k cosine search that reads a quarter of the bytes: an int8 copy of the unit matrix screens every row (ONNX Runtime
// MatMulInteger on all cores), a proven error bound keeps every row that could be in the top k, and only those are rescored in full precision.
//
// Why it is exact: with x̂ = s·c the row's int8 code (error e = x − x̂) and q̂ = t·d the query's (error f = q − q̂),
//   q·x = s·t·(c·d) + f·x̂ + q·e,  so  |q·x − s·t·(c·d)| ≤ ‖f‖·(‖x‖ + ‖e‖) + ‖q‖·‖e‖ = bound.
// c·d is an exact integer. Let L be the k-th largest lower bound (approx − bound) among allowed rows: k rows score at
// least L, so a row whose upper bound is below L cannot be in the top k. The rest (typically tens to a few hundred of
// 400k rows) are rescored exactly. The same session also returns the few hundred best approximate rows per query
// (TopK); only when the last of them could still make the cut are all rows scanned here. Query codes use 7 bits (|d| ≤ 63) so that x86 kernels without VNNI, which add pairs
// of u8·s8 products in 16 bits, cannot saturate (255·63·2 < 2^15).
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../graph/builder.js';
import { createSession, type GraphSession } from '../runtime/sessions.js';

export interface ScreenQuery {
  /** The query (dim floats; any length, scores are dot products with the unit rows). */
  vector: Float32Array;
  /** Rows never returned (the query's own words). */
  exclude: Set<number>;
  topn: number;
  /** Only rows below this index are candidates (restrict_vocab). */
  limit: number;
}

export interface Hit { index: number; score: number }

const ROW_LEVELS = 127;
const QUERY_LEVELS = 63;
/**
 * Covers rounding outside the exact integer part: float32 scale·dot in ONNX Runtime (|score| ≲ 1, relative 2^-24)
 * and the float64 bounds.
 */
const SLACK = 1e-6;
/** More candidates than this (near-duplicate rows, a tiny vocabulary) and a full exact pass is cheaper than rescoring. */
const MAX_CANDIDATES = 20_000;

/** The exact score of row `index` against query `q` (float64 accumulation, the same as the reference). */
export function exactScore(unitRow: Float32Array, q: Float32Array): number {
  let s = 0;
  for (let d = 0; d < q.length; d++) s += unitRow[d] * q[d];
  return s;
}

function screenGraph(dim: number): Uint8Array {
  const g = new GraphBuilder('int8_screen');
  const rows = g.input('rows', 'uint8', ['n_rows', dim]);
  const queries = g.input('queries', 'int8', [dim, 'n_queries']);
  const scales = g.input('scales', 'float32', ['n_rows', 1]);
  const k = g.input('k', 'int64', [1]);
  const zero = g.constant(Uint8Array.of(128), []);
  const dots = g.op1('MatMulInteger', [rows, queries, zero], {}, { dtype: 'int32', shape: ['n_rows', 'n_queries'] });
  g.output(dots, 'dots');
  // The k best approximate scores (scale·dot) per query, best first (transposed: TopK runs along contiguous rows): most queries need nothing else.
  const approx = g.op1('Transpose', [g.mul(g.cast(dots, 'float32'), scales)], { perm: [1, 0] });
  const [values, indices] = g.op('TopK', [approx, k], { axis: 1, largest: 1, sorted: 1 }, { outputs: 2, dtype: 'float32' });
  g.output(values, 'values', { dtype: 'float32' });
  g.output(indices, 'indices', { dtype: 'int64' });
  return g.serialize();
}

export interface ScreenOptions {
  /** ONNX Runtime intra-op threads (default: the cores, at most 4). */
  threads?: number;
}

export class Int8Screen {
  /** `maxError`: the largest row error ‖e‖ (the scan uses one bound for all rows). */
  private constructor(private readonly session: GraphSession, private readonly codes: Uint8Array,
    private readonly scales: Float32Array, private readonly maxError: number, readonly rows: number, readonly dim: number,
    private readonly unitRow: (i: number) => Float32Array) {}

  /** Quantises every unit row (per-row scale, zero point 128) and opens the screening session. */
  static async build(rows: number, dim: number, unitRow: (i: number) => Float32Array, options: ScreenOptions = {}): Promise<Int8Screen> {
    const codes = new Uint8Array(rows * dim);
    const scales = new Float32Array(rows);
    let maxError = 0;
    for (let r = 0; r < rows; r++) {
      const u = unitRow(r);
      let max = 0;
      for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(u[d]));
      if (!Number.isFinite(max)) {
        // A row with NaN/∞ scores NaN, which no answer holds: screened as 0, rescored, left out (as the full pass does).
        codes.fill(128, r * dim, (r + 1) * dim);
        continue;
      }
      const s = max > 0 ? Math.fround(max / ROW_LEVELS) : 0;
      let err = 0;
      for (let d = 0; d < dim; d++) {
        const c = s > 0 ? Math.max(-ROW_LEVELS, Math.min(ROW_LEVELS, Math.round(u[d] / s))) : 0;
        codes[r * dim + d] = c + 128;
        err += (u[d] - s * c) ** 2;
      }
      scales[r] = s;
      maxError = Math.max(maxError, Math.sqrt(err));
    }
    const threads = options.threads ?? Math.min(4, availableParallelism());
    const session = await createSession(screenGraph(dim), {
      threads,
      // Idle pool threads sleep instead of spinning: the cores are shared with the inference workers.
      extra: { extra: { session: { intra_op: { allow_spinning: '0' } } } },
    });
    return new Int8Screen(session, codes, scales, maxError, rows, dim, unitRow);
  }

  /** Bytes held by the int8 copy and its per-row scales. */
  get bytes(): number {
    return this.codes.byteLength + this.scales.byteLength;
  }

  /**
   * The exact top `topn` rows of each query, best first: one screening pass for all queries, then a rescoring of the
   * rows the bound cannot rule out. A query whose candidates would be too many gets `undefined` (scan it in full).
   */
  async search(queries: ScreenQuery[]): Promise<(Hit[] | undefined)[]> {
    if (queries.length === 0) return [];
    const n = queries.length;
    const limit = Math.min(this.rows, Math.max(...queries.map((q) => q.limit)));
    const codes = new Int8Array(this.dim * n);
    const steps: number[] = [];
    const queryErrors: number[] = [];
    const norms: number[] = [];
    queries.forEach((query, j) => {
      const v = query.vector;
      let max = 0;
      let norm = 0;
      for (let d = 0; d < this.dim; d++) {
        max = Math.max(max, Math.abs(v[d]));
        norm += v[d] * v[d];
      }
      const t = max > 0 && Number.isFinite(max) ? max / QUERY_LEVELS : 0;
      let err = 0;
      for (let d = 0; d < this.dim; d++) {
        const c = t > 0 ? Math.round(v[d] / t) : 0;
        codes[d * n + j] = c;
        err += (v[d] - t * c) ** 2;
      }
      steps.push(t);
      queryErrors.push(Number.isFinite(max) ? Math.sqrt(err) : Infinity);
      norms.push(Math.sqrt(norm));
    });
    // Enough of the best approximate rows that the candidates (within the bound of the k-th) usually all fit.
    const top = Math.min(limit, Math.max(...queries.map((q) => 4 * (Math.min(q.topn, q.limit) + q.exclude.size) + 128)));
    const feeds = {
      rows: new ort.Tensor('uint8', this.codes.subarray(0, limit * this.dim), [limit, this.dim]),
      queries: new ort.Tensor('int8', codes, [this.dim, n]),
      scales: new ort.Tensor('float32', this.scales.subarray(0, limit), [limit, 1]),
      k: new ort.Tensor('int64', BigInt64Array.of(BigInt(top)), [1]),
    };
    const margins = queries.map((_, j) => (steps[j] > 0 ? (2 * (queryErrors[j] * (1 + this.maxError) + norms[j] * this.maxError) + SLACK) / steps[j] : NaN));
    const out = await this.session.run(feeds, { values: null, indices: null });
    const values = out.values.data as Float32Array;
    const indices = out.indices.data as BigInt64Array;
    const answers = queries.map((q, j) => this.fromTop(q, j, top, limit, values, indices, margins[j]));
    if (!answers.includes('incomplete')) return answers as (Hit[] | undefined)[];
    // Some query's candidates reach past the returned rows: scan all rows for it (rare; exactness first).
    const dots = (await this.session.run(feeds, { dots: null })).dots.data as Int32Array;
    const scanned = this.select(queries, dots, limit, margins);
    return answers.map((a, j) => (a === 'incomplete' ? scanned[j] : a));
  }

  /** Candidates from the TopK output when it provably holds them all, else 'incomplete'. */
  private fromTop(query: ScreenQuery, j: number, top: number, limit: number, values: Float32Array, indices: BigInt64Array, margin: number): Hit[] | undefined | 'incomplete' {
    const k = Math.min(query.topn, query.limit, limit);
    if (k <= 0) return [];
    if (!(margin >= 0) || !Number.isFinite(margin)) return undefined;
    const rows = Math.min(query.limit, limit);
    const allowed: { index: number; approx: number }[] = [];
    for (let i = 0; i < top; i++) {
      const index = Number(indices[j * top + i]);
      if (index < rows && !query.exclude.has(index)) allowed.push({ index, approx: values[j * top + i] });
    }
    if (allowed.length < k) return top === limit ? this.rescore(query, allowed.map((a) => a.index), k) : 'incomplete';
    const cut = allowed[k - 1].approx - margin;
    // A row left out scores at most the last returned value; if that could still make the cut, look further.
    if (top < limit && values[j * top + top - 1] >= cut) return 'incomplete';
    return this.rescore(query, allowed.filter((a) => a.approx >= cut).map((a) => a.index), k);
  }

  /** The exact top k of `candidates`, best first; equal scores keep row order (as the full pass). */
  private rescore(query: ScreenQuery, candidates: number[], k: number): Hit[] {
    const hits: Hit[] = [];
    for (const index of candidates) {
      const score = exactScore(this.unitRow(index), query.vector);
      if (!Number.isNaN(score)) hits.push({ index, score });
    }
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits.slice(0, k);
  }

  release(): Promise<void> {
    return this.session.release();
  }

  /**
   * One pass over the screened rows for all queries (the output is row-major, so it is read in order). Scores stay
   * in units of each query's step t (approx = scale·dot). A uniform bound B (the largest row error) is used while
   * scanning: the final candidates are rows with approx ≥ k-th best approx − 2B, and since the running k-th best
   * only rises, every such row is kept when it is met; the surplus is dropped at the end.
   */
  private select(queries: ScreenQuery[], dots: Int32Array, limit: number, margins: number[]): (Hit[] | undefined)[] {
    const n = queries.length;
    const { scales } = this;
    const states = queries.map((q, j) => {
      const k = Math.min(q.topn, q.limit, limit);
      const margin = margins[j];
      return { k, margin, heap: new MinHeap(Math.max(k, 1)), index: [] as number[], approx: [] as number[], overflow: !(margin >= 0) || !Number.isFinite(margin) };
    });
    const cuts = new Float64Array(n).fill(-Infinity);
    const rowsOf = Int32Array.from(queries, (q) => Math.min(q.limit, limit));
    for (let j = 0; j < n; j++) if (states[j].k <= 0 || states[j].overflow) cuts[j] = Infinity;
    for (let r = 0; r < limit; r++) {
      const s = scales[r];
      const base = r * n;
      for (let j = 0; j < n; j++) {
        const a = s * dots[base + j];
        if (!(a >= cuts[j]) || r >= rowsOf[j]) continue;
        const st = states[j];
        if (queries[j].exclude.has(r)) continue;
        st.index.push(r);
        st.approx.push(a);
        st.heap.offer(a, st.k);
        if (st.heap.size === st.k) cuts[j] = st.heap.min - st.margin;
        if (st.index.length > MAX_CANDIDATES && st.heap.size === st.k) {
          // Compact: drop what the risen cut has ruled out; give up when that does not help.
          const keep = st.index.flatMap((i, c) => (st.approx[c] >= cuts[j] ? [c] : []));
          if (keep.length > MAX_CANDIDATES / 2) { st.overflow = true; cuts[j] = Infinity; continue; }
          st.index = keep.map((c) => st.index[c]);
          st.approx = keep.map((c) => st.approx[c]);
        }
      }
    }
    return queries.map((query, j) => {
      const st = states[j];
      if (st.k <= 0) return [];
      if (st.overflow) return undefined;
      return this.rescore(query, st.index.filter((_, c) => st.approx[c] >= cuts[j]), st.k);
    });
  }
}

/** The k largest numbers seen so far (a binary min-heap). */
class MinHeap {
  private readonly values: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  get min(): number {
    return this.values[0];
  }

  /** Adds `v` if fewer than k are held or it beats the smallest (which it then replaces). */
  offer(v: number, k: number): void {
    const h = this.values;
    if (this.size < k) {
      let i = this.size++;
      h[i] = v;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p] <= h[i]) break;
        [h[p], h[i]] = [h[i], h[p]];
        i = p;
      }
      return;
    }
    if (!(v > h[0])) return;
    h[0] = v;
    let i = 0;
    for (;;) {
      const a = 2 * i + 1;
      const b = a + 1;
      let m = i;
      if (a < k && h[a] < h[m]) m = a;
      if (b < k && h[b] < h[m]) m = b;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
