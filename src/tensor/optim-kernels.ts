// The optimizers' per-parameter updates as fused host loops: new parameter values from old ones, the gradient and
// moments that are updated in place.
//
// Why on the host rather than recorded as tensor ops: an in-graph update records about ten ops per parameter every
// step (most of a small model's JS time), feeds and fetches every moment through ONNX Runtime, and materialises each
// intermediate (m·β₁, g², √v …) as a full-size tensor. One pass per parameter reads each array once. The parameter
// gets a new array (the old one stays with the data node that pending tensors recorded before the step read, as
// eager PyTorch gives them the values they were computed from); moments are private, so they change in place.

export interface SgdScalars { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

/** torch's SGD: d = g + wd·p; buf = d on its first step, else momentum·buf + (1 − dampening)·d; p − lr·(d + momentum·buf | buf). */
export function sgdUpdate(p: Float32Array, g: Float32Array, out: Float32Array, buf: Float32Array | undefined, first: boolean, s: SgdScalars): void {
  const { lr, momentum, weightDecay: wd, nesterov } = s;
  const keep = 1 - s.dampening;
  const n = p.length;
  if (!buf) {
    for (let i = 0; i < n; i++) out[i] = p[i] - lr * (g[i] + wd * p[i]);
    return;
  }
  for (let i = 0; i < n; i++) {
    const d = g[i] + wd * p[i];
    const b = first ? d : momentum * buf[i] + keep * d;
    buf[i] = b;
    out[i] = p[i] - lr * (nesterov ? d + momentum * b : b);
  }
}

export interface AdamScalars {
  b1: number;
  b2: number;
  eps: number;
  /** lr / (1 − β₁ᵗ). */
  stepSize: number;
  /** 1 / √(1 − β₂ᵗ). */
  correction2: number;
  /** L2 weight decay added to the gradient (Adam). */
  l2: number;
  /** Decoupled decay factor 1 − lr·wd (AdamW; 1 otherwise). */
  decay: number;
}

/**
 * torch's Adam/AdamW on elements [start, end): g' = g + l2·p; m, v updated in place; p·decay − stepSize·m/(√v·c₂ + ε).
 * With `rowWidth`, only rows (of that many elements) holding a non-zero gradient move, moments included (SparseAdam);
 * the other rows are copied unchanged.
 */
export function adamUpdate(p: Float32Array, g: Float32Array, out: Float32Array, m: Float32Array, v: Float32Array, s: AdamScalars, rowWidth?: number): void {
  if (rowWidth === undefined) return adamRange(p, g, out, m, v, s, 0, p.length);
  for (let start = 0; start < p.length; start += rowWidth) {
    const end = start + rowWidth;
    let touched = false;
    for (let i = start; i < end && !touched; i++) touched = g[i] !== 0;
    if (touched) adamRange(p, g, out, m, v, s, start, end);
    else out.set(p.subarray(start, end), start);
  }
}

function adamRange(p: Float32Array, g: Float32Array, out: Float32Array, m: Float32Array, v: Float32Array, s: AdamScalars, start: number, end: number): void {
  const { b1, b2, eps, stepSize, correction2, l2, decay } = s;
  const [k1, k2] = [1 - b1, 1 - b2];
  for (let i = start; i < end; i++) {
    const d = g[i] + l2 * p[i];
    const mi = b1 * m[i] + k1 * d;
    const vi = b2 * v[i] + k2 * d * d;
    m[i] = mi;
    v[i] = vi;
    out[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) * correction2 + eps);
  }
}
