// Runs a graph built with src/graph in onnxruntime-node: one session per call, released afterwards.
import * as ort from 'onnxruntime-node';
import type { GraphBuilder } from '../../src/graph/builder.js';

export type Feeds = Record<string, ort.Tensor>;

/** Creates a session from the builder (or serialised bytes), runs it once and returns every output. */
export async function runGraph(model: GraphBuilder | Uint8Array, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model instanceof Uint8Array ? model : model.serialize());
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Loads a session for repeated runs or metadata checks; the caller releases it. */
export function graphSession(model: GraphBuilder | Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model instanceof Uint8Array ? model : model.serialize());
}

/** Tensor shorthand: numbers become the right typed array (int64 via BigInt, bool via 0/1). */
export function tensor(dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool', data: readonly number[], dims: readonly number[]): ort.Tensor {
  switch (dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(data), dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(data), dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(v)), dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(data), dims);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(data, (v) => (v ? 1 : 0)), dims);
  }
}

/** Plain numbers of any output tensor (int64 included). */
export const numbers = (t: ort.Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);
