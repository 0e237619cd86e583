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
    if (isAllocationFailure(err)) throw geulError('TRAINING_OUT_OF_MEMORY', { batch, detail: allocationDetail((err as Error).message) });
    throw err;
  }
}

/**
 * Builds a training session (or anything sized by the model and batch) with `create`; an allocation failure becomes
 * TRAINING_OUT_OF_MEMORY naming the batch size, so a run too big for the machine says what to lower instead of crashing.
 */
export async function createGuarded<T>(create: () => Promise<T>, batch: number): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (isAllocationFailure(err)) throw geulError('TRAINING_OUT_OF_MEMORY', { batch, detail: `building the training session: ${allocationDetail((err as Error).message)}` });
    throw err;
  }
}

/** The useful part of an allocation failure message (ORT's carries a source path and the node's name first). */
function allocationDetail(message: string): string {
  const size = /requested buffer of size (\d+)/.exec(message);
  if (size) return `an allocation of ${(Number(size[1]) / 2 ** 20).toFixed(0)} MiB failed`;
  return message.split('\n')[0].slice(0, 200);
}
