// What a job type is: an id, one TypeBox params schema (validation, types, OpenAPI) and a cancellable `run` that
// reports plain JSON events; the same function runs in a CLI, an embedded child process or (later) a remote worker.
import type { GeulConfig } from '../core/config.js';
import type { TObject } from 'typebox';
import { Type, type Static } from '../core/schema.js';
import type { JobTrace } from './trace.js';

/** Progress of a job: `step` of `total` units (training steps, rows, words). */
export interface JobProgressEvent { kind: 'progress'; step: number; total: number }
/** A point of the job's metric series (loss, accuracy, words/s …) at a step. */
export interface JobMetricsEvent { kind: 'metrics'; step: number; values: Record<string, number> }
export interface JobLogEvent { kind: 'log'; level: 'info' | 'warning'; message: string }
export type JobRunEvent = JobProgressEvent | JobMetricsEvent | JobLogEvent;

/** A request field that names an input file: over HTTP it holds a file id from POST /v1/files. */
export interface FileField {
  /** Dotted path in the params, e.g. "data.source". */
  path: string;
}

export interface JobRunContext {
  /** Aborted on cancel (and when the process that started the job goes away). */
  signal: AbortSignal;
  emit(event: JobRunEvent): void;
  /** The job's own folder: everything it writes lives here; files not starting with "." are its artifacts. */
  workDir: string;
  /** True when an earlier attempt ran (crash or restart): continue from its checkpoint or last committed window. */
  resume: boolean;
  config: GeulConfig;
  /** GEUL_JOB_TRACE=1: where the job's per-chunk spans are recorded (summarised into its log at the end). */
  trace?: JobTrace;
}

export interface JobType<P extends TObject = TObject> {
  id: string;
  description: string;
  params: P;
  /** Fields naming input files (resolved from file ids before the job is queued). */
  fileFields: string[];
  /** Fields naming a model for a task (resolved like the task routes do); value: the task id. */
  modelFields?: Record<string, string>;
  /** Submitted through another route, which prepares its input (batch: POST /v1/batches); POST /v1/jobs refuses it. */
  submitVia?: string;
  /**
   * Fields naming a model folder to train from (a fine-tuning base, a tokenizer): over HTTP a model name of the
   * server's catalog (--models); a path or any hub id only for admin keys, a hub id also with --allow-hub-models.
   */
  checkpointFields?: string[];
  /** Checks between fields a schema cannot express; throws INVALID_INPUT naming them ("params.model.size"). */
  validate?(params: Static<P>): void;
  /** Runs (or resumes) the job. Must be idempotent per step: delivery is at least once. */
  run(params: Static<P>, context: JobRunContext): Promise<void>;
}

/** Declares a job type (one table entry in src/jobs/table.ts). */
export function defineJobType<P extends TObject>(type: JobType<P>): JobType<P> {
  return type;
}

/** The request body of POST /v1/jobs, before the type's own schema checks `params`. */
export const JobRequest = Type.Object({
  type: Type.String({ minLength: 1, description: 'Job type: train, finetune, pretrain, word2vec, embed, classify or translate' }),
  params: Type.Record(Type.String(), Type.Unknown(), { description: 'Parameters of the job type (see its schema)' }),
}, { additionalProperties: false });
