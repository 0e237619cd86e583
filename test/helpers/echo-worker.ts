// A piscina worker for pool tests: answers with its workerData label, after an optional delay in the payload.
import { workerData } from 'node:worker_threads';
import type { WorkerCall, WorkerReply } from '../../src/runtime/pool.js';

export default async function echo(call: WorkerCall): Promise<WorkerReply> {
  const { delayMs = 0 } = (call.payload ?? {}) as { delayMs?: number };
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  return { ok: true, value: (workerData as { label: string }).label };
}
