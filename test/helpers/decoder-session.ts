// Test helpers for the decoder fixtures: run an ONNX session directly, carry the KV cache, compare logits.
import * as ort from 'onnxruntime-node';

export type Feeds = Record<string, ort.Tensor>;

export function int64(values: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

export function emptyPast(names: readonly string[], dims: readonly number[]): Feeds {
  const feeds: Feeds = {};
  for (const name of names) feeds[name] = new ort.Tensor('float32', new Float32Array(0), dims);
  return feeds;
}

/** Row `t` of a [batch, seq, vocab] logits tensor for batch row `b`. */
export function logitsAt(logits: ort.Tensor, b: number, t: number): Float32Array {
  const [, seq, vocab] = logits.dims;
  const data = logits.data as Float32Array;
  const start = (b * seq + t) * vocab;
  return data.subarray(start, start + vocab);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Feeds for the next step: every `present.X` output becomes the `past_key_values.X` input. */
export function pastFromPresent(outputs: ort.InferenceSession.OnnxValueMapType): Feeds {
  const feeds: Feeds = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (name.startsWith('present.')) feeds[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
  }
  return feeds;
}
