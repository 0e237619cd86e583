// The child process one job runs in (forked by runner.ts): runs the job type's function, publishes its artifacts when it
// succeeds, forwards its events over IPC, aborts on `abort`, and exits at once when its parent goes away (no orphans).
import { isGeulError, toGeulError } from '../core/errors.js';
import { openArtifactStore } from './artifact-store.js';
import { parseJobParams } from './params.js';
import { getJobType } from './table.js';
import type { JobRunEvent } from './job-type.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { JobTrace } from './trace.js';

const parentPid = process.ppid;
const controller = new AbortController();

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

// The IPC channel closes when the parent exits, however it died (SIGKILL included).
process.on('disconnect', () => process.exit(70));
// Belt and braces: a re-parented child (its parent gone) stops even if the disconnect was missed.
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(70);
}, 500).unref();

async function run(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  try {
    const type = getJobType(message.jobType);
    const params = parseJobParams(type, message.params);
    const trace = new JobTrace();
    const emit = (event: JobRunEvent) => {
      if (!trace.enabled) return void send({ type: 'event', event });
      // From the send to its callback: the message is written to the IPC channel.
      const start = trace.mark();
      void send({ type: 'event', event }).then(() => trace.since(`${event.kind} IPC send`, start));
    };
    await type.run(params as never, { signal: controller.signal, emit, workDir: message.workDir, resume: message.resume, config: message.config, trace });
    await publish(message, emit);
    await send({ type: 'finished', outcome: { state: 'succeeded' } });
  } catch (err) {
    if (controller.signal.aborted && isGeulError(err) && err.code === 'CANCELLED') await send({ type: 'finished', outcome: { state: 'cancelled' } });
    else {
      const error = toGeulError(err);
      const detail = error.code === 'INTERNAL' && err instanceof Error ? `: ${err.message}` : '';
      await send({ type: 'finished', outcome: { state: 'failed', error: { code: error.code, message: `${error.message}${detail}` } } });
    }
  }
  process.disconnect();
  process.exit(0);
}

/**
 * Here, not in the runner, so every runner (embedded or a remote worker) publishes the same way; a job is only
 * `succeeded` once its artifacts are in the store, and a failing store fails the job with ARTIFACT_STORE_FAILED.
 */
async function publish(message: Extract<ParentMessage, { type: 'run' }>, emit: (event: JobRunEvent) => void): Promise<void> {
  const store = await openArtifactStore(message.config);
  try {
    const artifacts = await store.publish(message.jobId, message.workDir);
    emit({ kind: 'log', level: 'info', message: `published ${artifacts.length} artifact${artifacts.length === 1 ? '' : 's'} to the ${store.kind} artifact store` });
  } finally {
    await store.close();
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') controller.abort();
  else if (message.type === 'run') void run(message);
});
void send({ type: 'ready' });
