// The messages between a runner and the child process running one job (plain JSON over the IPC channel).
import type { GeulConfig } from '../core/config.js';
import type { JobRunEvent } from './job-type.js';
import type { JobOutcome } from './queue.js';

export type ParentMessage =
  /** `jobId`: whose artifacts the child publishes (config.jobs.artifacts) when the job succeeds. */
  | { type: 'run'; jobId: string; jobType: string; params: Record<string, unknown>; workDir: string; resume: boolean; config: GeulConfig }
  | { type: 'abort' };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'event'; event: JobRunEvent }
  | { type: 'finished'; outcome: JobOutcome };
