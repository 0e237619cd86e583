// The child process one job runs in (forked by runner.ts): runs the job type's function, forwards its events over
// IPC, aborts on an `abort` message, and exits at once when its parent goes away, so no orphan keeps writing output.
import { isGeulError, toGeulError } from '../core/errors.js';
import { parseJobParams } from './params.js';
import { getJobType } from './table.js';
import type { ChildMessage, ParentMessage } from './protocol.js';

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
    await type.run(params as never, {
      signal: controller.signal,
      emit: (event) => void send({ type: 'event', event }),
      workDir: message.workDir,
      resume: message.resume,
      config: message.config,
    });
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

process.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') controller.abort();
  else if (message.type === 'run') void run(message);
});
void send({ type: 'ready' });
