// Progress bars on stderr for long CLI work; silent when stderr is not a terminal (pipes, CI, --json consumers).
import cliProgress from 'cli-progress';

export interface Progress {
  increment(by?: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { increment() {}, setTotal() {}, stop() {} };

/** A progress bar with a label, count, rate and ETA; `total` may be unknown (0) and set later. */
export function createProgress(label: string, total = 0, format?: string): Progress {
  if (!process.stderr.isTTY || process.env.GEUL_NO_PROGRESS) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: format ?? `${label} {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total || 1, 0, { rate: '0' });
  let value = 0;
  return {
    increment(by = 1, payload = {}) {
      value += by;
      const rate = (value / Math.max((Date.now() - started) / 1000, 1e-3)).toFixed(1);
      if (value > bar.getTotal()) bar.setTotal(value);
      bar.increment(by, { rate, ...payload });
    },
    setTotal(t) { bar.setTotal(t); },
    stop() { bar.stop(); },
  };
}

/** A progress bar for reading data: the reader reports bytes (text files), rows (Parquet) or files (folders). */
export function readingProgress(label = 'reading'): { update: (done: number, total: number) => void; stop: () => void } {
  let bar: Progress | undefined;
  let shown = 0;
  let stopped = false;
  return {
    update(done, total) {
      if (stopped) return;
      bar ??= createProgress(label, total, `${label} {bar} {percentage}% | ETA {eta_formatted}`);
      if (total > 0) bar.setTotal(total);
      bar.increment(done - shown);
      shown = done;
    },
    stop() {
      if (!stopped) bar?.stop();
      stopped = true;
    },
  };
}
