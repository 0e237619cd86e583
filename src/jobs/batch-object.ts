// A `batch` job as OpenAI's Batch object and back: ids (batch_… ⇄ job_…, the output and error files' fixed ids),
// the status from the job's state and its committed chunks, request counts and timestamps.
import { createHash } from 'node:crypto';
import type { BatchState } from './batch-job.js';
import type { JobRecord } from './queue.js';

export const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** The batch id of a job (the same random part), and the job id of a batch id (undefined: not a batch id). */
export const batchIdOf = (jobId: string) => `batch_${jobId.slice('job_'.length)}`;
export const jobIdOf = (batchId: string) => (/^batch_[A-Za-z0-9]{1,64}$/.test(batchId) ? `job_${batchId.slice('batch_'.length)}` : undefined);

/** The fixed file ids of a batch's output and error files (file-… and 24 characters, like uploaded files). */
export function batchFileId(jobId: string, which: 'output' | 'errors'): string {
  return `file-${createHash('sha256').update(`${jobId}:${which}`).digest('hex').slice(0, 24)}`;
}

/**
 * Queued: "validating" (the lines were checked when the batch was created, it waits for a runner); running: "in_progress",
 * "cancelling" once a cancel is asked for, "finalizing" after the last chunk; then completed, failed or cancelled.
 */
export function batchStatus(job: JobRecord, state: BatchState | undefined): BatchStatus {
  switch (job.state) {
    case 'queued': return 'validating';
    case 'running': return job.cancelRequested ? 'cancelling' : state?.finalizingAt ? 'finalizing' : 'in_progress';
    case 'succeeded': return 'completed';
    default: return job.state;
  }
}

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.floor(ms / 1000));

/** OpenAI's Batch object; `files`: the output and error file ids when those files exist (null otherwise). */
export function batchObject(job: JobRecord, state: BatchState | undefined, files: { output: string | null; errors: string | null }) {
  const params = job.params as { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> | null; total: number };
  const at = (state: JobRecord['state']) => (job.state === state ? seconds(job.finishedAt) : null);
  return {
    id: batchIdOf(job.id),
    object: 'batch' as const,
    endpoint: params.endpoint,
    errors: job.state === 'failed' && job.error ? { object: 'list' as const, data: [{ code: job.error.code, message: job.error.message, param: null, line: null }] } : null,
    input_file_id: params.input_file_id,
    completion_window: params.completion_window,
    status: batchStatus(job, state),
    output_file_id: files.output,
    error_file_id: files.errors,
    created_at: seconds(job.createdAt)!,
    in_progress_at: seconds(job.startedAt),
    expires_at: seconds(job.createdAt)! + 24 * 3600,
    finalizing_at: seconds(state?.finalizingAt),
    completed_at: at('succeeded'),
    failed_at: at('failed'),
    expired_at: null,
    // Asked for while it ran (or while queued: then cancelled at once, at the same second).
    cancelling_at: job.state === 'running' || job.state === 'cancelled' ? seconds(job.cancelRequestedAt) : null,
    cancelled_at: at('cancelled'),
    request_counts: { total: state?.total ?? params.total, completed: state?.completed ?? 0, failed: state?.failed ?? 0 },
    metadata: params.metadata ?? null,
  };
}
