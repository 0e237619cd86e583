// Job test helpers: a tiny labelled TSV and a JSONL of texts, multipart bodies, SSE parsing (a whole stream or its
// first events), bounded polling, and real `geul serve`/`geul worker` processes for the multi-process tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../helpers/redis.js';

/** A separable two-class TSV (the data of test/train/cancel.test.ts). */
export function writeToyTsv(path: string, rows = 160): void {
  const words = { positive: ['wonderful', 'great', 'lovely', 'superb'], negative: ['awful', 'dull', 'weak', 'tedious'] };
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'story'];
  const lines = ['text\tlabel'];
  for (let i = 0; i < rows; i++) {
    const label = i % 2 === 0 ? 'positive' : 'negative';
    const text = Array.from({ length: 3 + (i % 4) }, (_, k) => filler[(i + k * 3) % filler.length]);
    text.splice(i % text.length, 0, words[label][(i >> 1) % 4]);
    lines.push(`${text.join(' ')}\t${label}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** `rows` JSONL lines {"id": "r<i>", "text": …}, each text different. */
export function writeTextsJsonl(path: string, rows: number): void {
  const words = ['cat', 'dog', 'sun', 'rain', 'blue', 'green', 'fast', 'slow', 'tree', 'river'];
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, text: `${words[i % 10]} ${words[(i * 7 + 3) % 10]} number ${i}` }));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function multipartBody(fields: Record<string, string>, file: { name: string; content: Buffer | string; field?: string }): { payload: Buffer; contentType: string } {
  const boundary = `----geul${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface SseEvent { id: number; event: string; data: Record<string, unknown> }

export function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((block) => block.includes('data:')).map((block) => {
    const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
    return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
  });
}

/** Polls `check` until it returns a value (bounded by `tries`, not by a time threshold on the work itself). */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, tries = 3000, everyMs = 20): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A job object as the API answers it. */
export interface JobBody {
  id: string; object: string; type: string; state: string; params: Record<string, unknown>;
  progress: { step: number; total: number | null; eta_s: number | null };
  created_at: number; started_at: number | null; finished_at: number | null;
  error: { code: string; message: string } | null; artifacts: { name: string; bytes: number; url: string }[];
}
/** What the routes answer, loosely typed for assertions: a job, a list of jobs, a file, or an error. */
export type ApiBody = Omit<JobBody, 'error'> & { error: { code: string; message: string }; data: JobBody[]; has_more: boolean; bytes: number; purpose: string };

/** The first `n` events of the job's stream (the stream is left open by the server; the client hangs up). */
export async function eventsUntil(base: string, id: string, n: number, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(`${base}/v1/jobs/${id}/events`, { signal: controller.signal, headers });
  const reader = res.body!.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended early: ${text}`);
    text += Buffer.from(value).toString();
    const events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
    if (events.length >= n) {
      controller.abort();
      return events.slice(0, n);
    }
  }
}

export interface GeulProcess { child: ChildProcess; stderr: () => string; match: RegExpExecArray }

/**
 * Starts `geul …` from source and resolves once its stderr matches `ready` (`match` holds the groups, e.g. the URL of
 * `serving on (…)` or the pid of `worker taking jobs … pid (…)`); rejects if it exits first. Push it to a list that
 * killAll() ends when the test is over.
 */
export function spawnGeul(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<GeulProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const match = ready.exec(stderr);
      if (match) resolve({ child, stderr: () => stderr, match });
    });
    child.on('exit', (code) => reject(new Error(`geul ${args[0]} exited early (${code}): ${stderr}`)));
  });
}

/** `geul serve` is up: its URL. */
export const SERVING = /serving on (http:\/\/[^\s]+)/;
/** `geul worker` is up: its pid. */
export const WORKER_READY = /worker taking jobs .*pid (\d+)\)/;

/** SIGKILLs every process still running and waits until each has exited (so nothing outlives the test). */
export async function killAll(procs: GeulProcess[]): Promise<void> {
  await Promise.all(procs.map(({ child }) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Which runner process ran each attempt of a job, in order (from the runner's "attempt N started" log events). */
export function runnerPids(events: SseEvent[]): number[] {
  return events.filter((e) => e.event === 'log' && typeof e.data.runnerPid === 'number').map((e) => e.data.runnerPid as number);
}

/**
 * The multi-process Redis tests' machine room: a scratch folder, a config with short locks and stalled checks (so a
 * dead worker's job moves on quickly; heartbeats renew a lock 40 times over, a margin for a loaded machine), a unique
 * key prefix, and spawners for `geul serve --redis` replicas and `geul worker`s that share the job and artifact
 * folders. Push what they start to `procs`: every one is killed and the prefix dropped when the test ends.
 */
export async function redisProcesses(t: TestContext, url: string, name: string, lockMs: number) {
  const dir = mkdtempSync(join(tmpdir(), `geul-${name}-`));
  const fixtures = await fixturesDir();
  const shared = join(dir, 'shared-jobs');
  // Finished jobs publish into their own folder (worker --artifacts, GEUL_ARTIFACTS on the API), apart from the job folders.
  const artifacts = join(dir, 'artifacts');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ jobs: { dir: shared, heartbeatMs: lockMs / 40, lockDurationMs: lockMs, stalledIntervalMs: 300, backoffMs: 100 } }));
  const prefix = uniqueRedisPrefix();
  const env = { ...process.env, GEUL_CONFIG: config, GEUL_REDIS_PREFIX: prefix };
  const procs: GeulProcess[] = [];
  t.after(async () => {
    await killAll(procs);
    await dropRedisPrefix(url, prefix);
  });
  const api = (data: string) => spawnGeul(['serve', '--port', '0', '--workers', '1', '--redis', url, '--data-dir', join(dir, data), '--log-level', 'warn',
    '--default', `embeddings=${join(fixtures, 'tiny-bert-embed')}`], { ...env, GEUL_ARTIFACTS: artifacts }, SERVING);
  const worker = (n: number) => spawnGeul(['worker', '--redis', url, '--data-dir', join(dir, `worker${n}`), '--jobs-dir', shared, '--artifacts', artifacts, '--concurrency', '1'], env, WORKER_READY);
  return { dir, artifacts, prefix, procs, api, worker };
}
