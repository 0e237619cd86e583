// Opt-in timing of a job's per-chunk work (GEUL_JOB_TRACE=1): wall, process CPU and main-thread CPU per named span,
// summarised per chunk into the job's log, so the queue overhead can be located without a benchmark on a busy machine.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Whether GEUL_JOB_TRACE=1 asks for traces (read once; a child process inherits its runner's environment). */
export const jobTraceEnabled = (env: NodeJS.ProcessEnv = process.env): boolean => env.GEUL_JOB_TRACE === '1';

export interface Mark { wall: number; cpu: number; thread: number }
interface Totals { count: number; wallMs: number; cpuMs: number; threadMs: number }

/**
 * Main-thread CPU time in ms, from Linux's schedstat (ns, this thread only): unlike process.cpuUsage() it leaves out
 * ONNX Runtime's compute threads, so a span's own JavaScript work shows even while a model runs beside it.
 */
function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Spans by name; a disabled trace runs the functions and records nothing (one branch per call). */
export class JobTrace {
  private readonly spans = new Map<string, Totals>();

  constructor(readonly enabled = jobTraceEnabled()) {}

  /** Times `fn` (sync or async) as one occurrence of the span `name`. */
  span<T>(name: string, fn: () => T): T {
    if (!this.enabled) return fn();
    const start = this.mark();
    const done = () => this.since(name, start);
    const result = fn();
    if (result instanceof Promise) return result.finally(done) as T;
    done();
    return result;
  }

  /** Now, for a span that `since` closes later (one that does not fit in a function, e.g. reading a window's rows). */
  mark(): Mark {
    return this.enabled ? { wall: performance.now(), cpu: processCpuMs(), thread: threadCpuMs() } : { wall: 0, cpu: 0, thread: 0 };
  }

  since(name: string, start: Mark): void {
    if (this.enabled) this.add(name, performance.now() - start.wall, processCpuMs() - start.cpu, threadCpuMs() - start.thread);
  }

  /** Records a span measured elsewhere (e.g. an IPC round trip from its send to its callback). */
  add(name: string, wallMs: number, cpuMs = NaN, threadMs = NaN): void {
    const t = this.spans.get(name) ?? { count: 0, wallMs: 0, cpuMs: 0, threadMs: 0 };
    t.count++;
    t.wallMs += wallMs;
    t.cpuMs += cpuMs;
    t.threadMs += threadMs;
    this.spans.set(name, t);
  }

  /** `per` units (chunks): each span's count and its wall / process CPU / main-thread CPU ms per unit. */
  summary(what: string, per: number): string {
    const f = (ms: number) => (Number.isNaN(ms) ? '–' : (ms / Math.max(1, per)).toFixed(2));
    const parts = [...this.spans].map(([name, t]) => `${name} ×${t.count}: ${f(t.wallMs)} wall, ${f(t.cpuMs)} cpu, ${f(t.threadMs)} main-thread cpu`);
    return `trace (${what}, ms per chunk over ${per} chunks): ${parts.join('; ')}`;
  }

  get size(): number {
    return this.spans.size;
  }
}
