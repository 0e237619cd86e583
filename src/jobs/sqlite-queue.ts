// The embedded job queue: jobs and their events in SQLite (WAL, jobs.sqlite in the data dir), one process owning it.
// State machine queued → running → succeeded | failed | cancelled; event ids increase, so SSE replays from any id.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { geulError } from '../core/errors.js';
import { runsExhausted, type JobEvent, type JobEventKind, type JobOutcome, type JobQueue, type JobRecord, type JobState, type ListRequest, type SubmitRequest } from './queue.js';

interface JobRow {
  seq: number; id: string; type: string; state: JobState; params: string; run_params: string; owner: string;
  step: number; total: number | null; created_at: number; started_at: number | null; finished_at: number | null;
  error_code: string | null; error_message: string | null; attempts: number; cancel_requested: number; cancel_requested_at: number | null; released: number;
  worker: string | null; heartbeat_at: number | null;
}

export function jobsDbPath(dataDir: string): string {
  return join(dataDir, 'jobs.sqlite');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomId(prefix: string, length = 24): string {
  return prefix + Array.from(randomBytes(length), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id, type: row.type, state: row.state, params: JSON.parse(row.params) as Record<string, unknown>,
    runParams: JSON.parse(row.run_params) as Record<string, unknown>, owner: row.owner, step: row.step, total: row.total,
    createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    attempts: row.attempts, cancelRequested: row.cancel_requested === 1, cancelRequestedAt: row.cancel_requested_at ?? null,
  };
}

export class SqliteJobQueue implements JobQueue {
  readonly db: Database.Database;
  private readonly listeners = new Set<(jobId: string) => void>();

  private readonly now: () => number;
  /** Runs a job gets (jobs.attempts); one claimed that often, none finished, fails at its next claim instead. */
  private readonly maxAttempts: number;

  constructor(path: string, options: { now?: () => number; maxAttempts?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? Infinity;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, state TEXT NOT NULL,
        params TEXT NOT NULL, run_params TEXT NOT NULL, owner TEXT NOT NULL, step INTEGER NOT NULL DEFAULT 0, total INTEGER,
        created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, error_code TEXT, error_message TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, worker TEXT, heartbeat_at INTEGER,
        cancel_requested_at INTEGER, released INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
      CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, seq);
      CREATE TABLE IF NOT EXISTS job_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, id);`);
    // A jobs.sqlite from before these columns gets them (null: when its cancels were asked is unknown).
    const columns = this.db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'cancel_requested_at')) this.db.exec('ALTER TABLE jobs ADD COLUMN cancel_requested_at INTEGER');
    if (!columns.some((c) => c.name === 'released')) this.db.exec('ALTER TABLE jobs ADD COLUMN released INTEGER NOT NULL DEFAULT 0');
  }

  static open(dataDir: string, options: { maxAttempts?: number } = {}): SqliteJobQueue {
    return new SqliteJobQueue(jobsDbPath(dataDir), options);
  }

  onChange(listener: (jobId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(jobId: string): void {
    for (const listener of this.listeners) listener(jobId);
  }

  private row(id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = this.row(id);
    return row ? toRecord(row) : undefined;
  }

  private insertEvent(jobId: string, kind: JobEventKind, data: Record<string, unknown>): number {
    return Number(this.db.prepare('INSERT INTO job_events (job_id, kind, data, at) VALUES (?, ?, ?, ?)').run(jobId, kind, JSON.stringify(data), this.now()).lastInsertRowid);
  }

  private stateEvent(row: JobRow): void {
    this.insertEvent(row.id, 'state', { state: row.state, ...(row.error_code && { error: { code: row.error_code, message: row.error_message } }) });
  }

  async submit(request: SubmitRequest): Promise<JobRecord> {
    const id = randomId('job_');
    this.db.transaction(() => {
      if (request.maxPending !== undefined) {
        const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE owner = ? AND state IN ('queued', 'running')").get(request.owner) as { n: number };
        if (n >= request.maxPending) throw geulError('JOB_LIMIT', { limit: request.maxPending, what: 'queued or running' });
      }
      this.db.prepare('INSERT INTO jobs (id, type, state, params, run_params, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, request.type, 'queued', JSON.stringify(request.params), JSON.stringify(request.runParams), request.owner, this.now());
      this.stateEvent(this.row(id)!);
    }).immediate();
    this.changed(id);
    return toRecord(this.row(id)!);
  }

  async claim(worker: string, options: { maxRunningPerOwner: number }): Promise<JobRecord | undefined> {
    const exhausted: string[] = [];
    const row = this.db.transaction(() => {
      const nextQueued = this.db.prepare(`SELECT id, attempts - released AS attempts FROM jobs WHERE state = 'queued' AND owner NOT IN (
          SELECT owner FROM jobs WHERE state = 'running' GROUP BY owner HAVING COUNT(*) >= ?) ORDER BY seq LIMIT 1`);
      let next = nextQueued.get(options.maxRunningPerOwner) as { id: string; attempts: number } | undefined;
      while (next && next.attempts >= this.maxAttempts) {
        // Every earlier run of it ended with the server gone (requeueRunning put it back): fail it rather than loop.
        const error = runsExhausted(next.attempts);
        this.db.prepare("UPDATE jobs SET state = 'failed', finished_at = ?, error_code = ?, error_message = ?, worker = NULL WHERE id = ?")
          .run(this.now(), error.code, error.message, next.id);
        this.stateEvent(this.row(next.id)!);
        exhausted.push(next.id);
        next = nextQueued.get(options.maxRunningPerOwner) as { id: string; attempts: number } | undefined;
      }
      if (!next) return undefined;
      const at = this.now();
      this.db.prepare("UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, ?), attempts = attempts + 1, worker = ?, heartbeat_at = ? WHERE id = ?")
        .run(at, worker, at, next.id);
      const claimed = this.row(next.id)!;
      this.stateEvent(claimed);
      return claimed;
    }).immediate();
    for (const id of exhausted) this.changed(id);
    if (!row) return undefined;
    this.changed(row.id);
    return toRecord(row);
  }

  async heartbeat(id: string, worker: string): Promise<{ cancelRequested: boolean }> {
    this.db.prepare('UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND worker = ?').run(this.now(), id, worker);
    return { cancelRequested: this.row(id)?.cancel_requested === 1 };
  }

  async progress(id: string, step: number, total: number | null): Promise<void> {
    this.db.prepare("UPDATE jobs SET step = ?, total = ? WHERE id = ? AND state = 'running'").run(step, total, id);
  }

  async progressEvent(id: string, step: number, total: number): Promise<number> {
    const eventId = this.db.transaction(() => {
      this.db.prepare("UPDATE jobs SET step = ?, total = ? WHERE id = ? AND state = 'running'").run(step, total, id);
      return this.insertEvent(id, 'progress', { step, total });
    })();
    this.changed(id);
    return eventId;
  }

  async appendEvent(id: string, kind: JobEventKind, data: Record<string, unknown>): Promise<number> {
    const eventId = this.insertEvent(id, kind, data);
    this.changed(id);
    return eventId;
  }

  async finish(id: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    const row = this.db.transaction(() => {
      const current = this.row(id);
      if (!current || current.state !== 'running') return current;
      const error = outcome.state === 'failed' ? outcome.error : undefined;
      this.db.prepare('UPDATE jobs SET state = ?, finished_at = ?, error_code = ?, error_message = ?, worker = NULL WHERE id = ?')
        .run(outcome.state, this.now(), error?.code ?? null, error?.message ?? null, id);
      const finished = this.row(id)!;
      this.stateEvent(finished);
      return finished;
    }).immediate();
    this.changed(id);
    return row ? toRecord(row) : undefined;
  }

  async requestCancel(id: string): Promise<JobRecord | undefined> {
    const row = this.db.transaction(() => {
      const current = this.row(id);
      if (!current) return undefined;
      if (current.state === 'queued') {
        const at = this.now();
        this.db.prepare("UPDATE jobs SET state = 'cancelled', finished_at = ?, cancel_requested = 1, cancel_requested_at = ? WHERE id = ?").run(at, at, id);
        this.stateEvent(this.row(id)!);
      } else if (current.state === 'running') {
        this.db.prepare('UPDATE jobs SET cancel_requested = 1, cancel_requested_at = COALESCE(cancel_requested_at, ?) WHERE id = ?').run(this.now(), id);
      }
      return this.row(id);
    }).immediate();
    if (row) this.changed(id);
    return row ? toRecord(row) : undefined;
  }

  async list(request: ListRequest): Promise<{ data: JobRecord[]; hasMore: boolean }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (request.owner !== undefined) { where.push('owner = ?'); args.push(request.owner); }
    if (request.state) { where.push('state = ?'); args.push(request.state); }
    if (request.type) { where.push('type = ?'); args.push(request.type); }
    if (request.after !== undefined) {
      const cursor = this.row(request.after);
      if (!cursor) throw geulError('INVALID_INPUT', { detail: `after: no job "${request.after}"` });
      where.push('seq < ?');
      args.push(cursor.seq);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, request.limit + 1) as JobRow[];
    return { data: rows.slice(0, request.limit).map(toRecord), hasMore: rows.length > request.limit };
  }

  async events(id: string, afterEventId: number): Promise<JobEvent[]> {
    const rows = this.db.prepare('SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY id').all(id, afterEventId) as { id: number; job_id: string; kind: JobEventKind; data: string; at: number }[];
    return rows.map((r) => ({ id: r.id, jobId: r.job_id, kind: r.kind, data: JSON.parse(r.data) as Record<string, unknown>, at: r.at }));
  }

  async requeueRunning(): Promise<number> {
    const ids = this.db.transaction(() => {
      const running = this.db.prepare("SELECT id FROM jobs WHERE state = 'running'").all() as { id: string }[];
      for (const { id } of running) {
        // A cancel asked for before the crash is honoured now rather than re-running the job.
        const cancelled = this.row(id)!.cancel_requested === 1;
        this.db.prepare(`UPDATE jobs SET state = ?, worker = NULL${cancelled ? ', finished_at = ?' : ''} WHERE id = ?`).run(...(cancelled ? ['cancelled', this.now(), id] : ['queued', id]));
        this.insertEvent(id, 'log', { level: 'warning', message: cancelled ? 'the server stopped while the job was being cancelled' : 'the server stopped while the job ran: re-queued, it resumes' });
        this.stateEvent(this.row(id)!);
      }
      return running.map((r) => r.id);
    }).immediate();
    for (const id of ids) this.changed(id);
    return ids.length;
  }

  /**
   * A graceful shutdown stopped this run: the job stays running (the next start re-queues it, as after a crash), but
   * the run does not count against maxAttempts, so restarting a server never fails a job by itself.
   */
  async release(id: string): Promise<void> {
    this.db.prepare("UPDATE jobs SET released = released + 1 WHERE id = ? AND state = 'running'").run(id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
