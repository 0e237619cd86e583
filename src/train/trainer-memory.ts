// Session runs that turn ONNX Runtime's allocation failures into the catalogued TRAINING_OUT_OF_MEMORY error.
import type * as ort from 'onnxruntime-node';
import { geulError } from '../core/errors.js';
import type { Fetches, GraphSession } from '../runtime/sessions.js';

/** Messages of a failed allocation: ORT's arena and CPU allocator, the C++ runtime, and V8's array buffers. */
const ALLOCATION_FAILURE = /Failed to allocate memory|bad[ _]alloc|bad allocation|Array buffer allocation failed|out of memory/i;

/** Whether `err` says memory ran out (rather than the graph or the input being wrong). */
export function isAllocationFailure(err: unknown): boolean {
  return err instanceof Error && ALLOCATION_FAILURE.test(err.message);
}

/** Runs `session`; an allocation failure becomes TRAINING_OUT_OF_MEMORY naming the batch size, others pass through. */
export async function runGuarded(session: GraphSession, feeds: Record<string, ort.Tensor>, fetches: Fetches | undefined, batch: number): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds, fetches);
  } catch (err) {
    if (isAllocationFailure(err)) throw geulError('TRAINING_OUT_OF_MEMORY', { batch, detail: (err as Error).message.split('\n')[0] });
    throw err;
  }
}
