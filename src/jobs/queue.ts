// The job queue contract every backend implements (the embedded SQLite one, BullMQ/Redis with --redis): submit, claim,
// heartbeat, progress and events, finish, cancel, list with a cursor, get; plus the job record and event shapes.

import { geulError } from '../core/errors.js';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export const EVENT_KINDS = ['progress', 'metrics', 'log', 'state'] as const;
export type JobEventKind = (typeof EVENT_KINDS)[number];

export interface JobRecord {
  id: string;
  type: string;
  state: JobState;
  /** The parameters as the client gave them (defaults applied). */
  params: Record<string, unknown>;
  /** What the runner gets: params with file ids and model names resolved (never shown to clients). */
  runParams: Record<string, unknown>;
  /** The API key id that submitted it ("local" when auth is off). */
  owner: string;
  step: number;
  total: number | null;
  /** Unix milliseconds. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: { code: string; message: string } | null;
  /** How many times a runner claimed it (more than one: it resumes). */
  attempts: number;
  cancelRequested: boolean;
  /** When the first cancel was asked for (Unix milliseconds; null: never): OpenAI batches show it as cancelling_at. */
  cancelRequestedAt: number | null;
}

export interface JobEvent {
  /** Increasing over the whole queue: the SSE `id:` and the Last-Event-ID cursor. */
  id: number;
  jobId: string;
  kind: JobEventKind;
  data: Record<string, unknown>;
  at: number;
}

export interface SubmitRequest {
  type: string;
  params: Record<string, unknown>;
  runParams: Record<string, unknown>;
  owner: string;
  /** Refuse (JOB_LIMIT) when the owner already has this many queued or running jobs. */
  maxPending?: number;
}

export interface ListRequest {
  /** Only this owner's jobs (undefined: everyone's, for admins). */
  owner?: string;
  state?: JobState;
  type?: string;
  limit: number;
  /** A job id: list the jobs created before it (newest first, as OpenAI's lists). */
  after?: string;
}

export type JobOutcome = { state: 'succeeded' } | { state: 'cancelled' } | { state: 'failed'; error: { code: string; message: string } };

/**
 * The failure a job gets instead of another run when it was claimed `runs` times (jobs.attempts) and none of them
 * finished: its process (or the whole worker) died each time, so running it again would only die again.
 */
export function runsExhausted(runs: number): { code: 'JOB_PROCESS_DIED'; message: string } {
  const detail = `it stopped before finishing in each of its ${runs} run${runs === 1 ? '' : 's'} (jobs.attempts), so it is not run again`;
  return { code: 'JOB_PROCESS_DIED', message: geulError('JOB_PROCESS_DIED', { detail }).message };
}

/**
 * Every call is asynchronous, so a networked backend (BullMQ/Redis) implements the same contract; writes for one job
 * are issued in order by its runner and must be applied in that order.
 */
export interface JobQueue {
  submit(request: SubmitRequest): Promise<JobRecord>;
  /** Takes the oldest queued job whose owner runs fewer than `maxRunningPerOwner`; marks it running. */
  claim(worker: string, options: { maxRunningPerOwner: number }): Promise<JobRecord | undefined>;
  /**
   * The runner is alive; answers whether a cancel was asked for, and (`lost`, Redis) whether this runner lost the job:
   * its lock expired and another worker may run it, so the runner stops its copy without recording an outcome.
   */
  heartbeat(id: string, worker: string): Promise<{ cancelRequested: boolean; lost?: boolean }>;
  progress(id: string, step: number, total: number | null): Promise<void>;
  appendEvent(id: string, kind: JobEventKind, data: Record<string, unknown>): Promise<number>;
  /**
   * `progress` and its `progress` event ({step, total}) in one write (one SQLite transaction, one Redis script): what a
   * runner records per progress event, so it costs one call and no reader sees the record and the events disagree.
   */
  progressEvent(id: string, step: number, total: number): Promise<number>;
  finish(id: string, outcome: JobOutcome): Promise<JobRecord | undefined>;
  /** Queued → cancelled at once; running → cancel requested (the runner aborts it); final → unchanged. */
  requestCancel(id: string): Promise<JobRecord | undefined>;
  get(id: string): Promise<JobRecord | undefined>;
  list(request: ListRequest): Promise<{ data: JobRecord[]; hasMore: boolean }>;
  events(id: string, afterEventId: number): Promise<JobEvent[]>;
  /** After a crash: jobs left running go back to the queue (they resume); returns how many. */
  requeueRunning(): Promise<number>;
  /**
   * A graceful shutdown stopped this process's run of the job: Redis hands it back to the queue at once, so another
   * worker resumes it; SQLite (embedded) leaves it running for the next start to re-queue. Either way the run does not
   * count against jobs.attempts.
   */
  release?(id: string): Promise<void>;
  /** Called after every change of a job (events, state): SSE streams wake up on it. */
  onChange(listener: (jobId: string) => void): () => void;
  close(): Promise<void>;
}
