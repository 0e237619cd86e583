// An optimizer thread of host-optim-threads.ts: updates the parameters moved to it in place and moves them back.
import { parentPort, workerData } from 'node:worker_threads';
import { hostUpdate, sumOfSquares, type HostParamUpdate } from './host-optim.js';
import type { FromWorker, ToWorker, WorkerEntry, WorkerOptimizerConfig } from './host-optim-threads.js';

const config = (workerData as { config: WorkerOptimizerConfig }).config;
const port = parentPort;
/** A step waiting for its gradient scale (clipping: the main thread needs every thread's sums first). */
let pending: { updates: (HostParamUpdate & { decay: boolean })[]; scalars: number[] } | undefined;

const reply = (message: FromWorker, transfer: ArrayBuffer[] = []) => port?.postMessage(message, transfer);

function finish(gradScale: number): void {
  if (!pending) return;
  const { updates, scalars } = pending;
  pending = undefined;
  for (const u of updates) hostUpdate(config, scalars, u, { gradScale, decay: u.decay });
  const entries: WorkerEntry[] = updates.map((u) => ({ param: u.param.buffer as ArrayBuffer, grad: u.grad.buffer as ArrayBuffer, states: u.states.map((s) => s.buffer as ArrayBuffer) }));
  reply({ type: 'done', entries }, entries.flatMap((e) => [e.param, e.grad, ...e.states]));
}

port?.on('message', (m: ToWorker) => {
  if (m.type === 'scale') return finish(m.gradScale);
  const updates = m.entries.map((e) => ({ param: new Float32Array(e.param), grad: new Float32Array(e.grad), states: e.states.map((s) => new Float32Array(s)), decay: e.decay ?? true }));
  pending = { updates, scalars: m.scalars };
  if (m.gradScale === null) reply({ type: 'norms', sums: updates.map((u) => sumOfSquares(u.grad)) });
  else finish(m.gradScale);
});
