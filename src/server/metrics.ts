// Prometheus metrics without dependencies: counters, gauges and histograms rendered in the text exposition format.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Counter {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

class Histogram {
  readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.buckets.forEach((b, i) => { if (value <= b) s.counts[i]++; });
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** A value set or moved by the code that owns it (one series, no labels). */
class Gauge {
  value = 0;
  constructor(readonly name: string, readonly help: string) {}
  add(by: number): void {
    this.value += by;
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.value}`];
  }
}

const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The server's metrics; gauges are read from `gauges` at scrape time. */
export class Metrics {
  readonly requests = new Counter('geul_http_requests_total', 'HTTP requests by route, method and status');
  readonly latency = new Histogram('geul_http_request_duration_seconds', 'HTTP request latency by route', LATENCY);
  readonly batchSize = new Histogram('geul_batch_size', 'Inputs per model call after micro-batching', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  readonly modelLoad = new Histogram('geul_model_load_seconds', 'Time to load a model in a worker', [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  readonly workerRestarts = new Counter('geul_worker_restarts_total', 'Inference workers that died and were replaced');
  readonly rejected = new Counter('geul_rejected_total', 'Requests refused before inference, by reason');
  readonly playgroundRuns = new Gauge('geul_playground_runs', 'Neural-network playground runs training now');
  readonly playgroundSteps = new Counter('geul_playground_steps_total', 'Training steps taken by playground runs');
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly gauges: () => Record<string, { help: string; value: number }> = () => ({})) {
    this.loopDelay.enable();
    this.workerRestarts.inc({}, 0);
    this.playgroundSteps.inc({}, 0);
  }

  /** Event-loop delay percentiles in milliseconds since start (or the last reset). */
  loopLag(): { p50: number; p99: number; max: number } {
    const ms = (ns: number): number => ns / 1e6;
    return { p50: ms(this.loopDelay.percentile(50)), p99: ms(this.loopDelay.percentile(99)), max: ms(this.loopDelay.max) };
  }

  /** Counts one finished HTTP request (499: the client went away before the answer was complete). */
  recordRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe(seconds, { route });
  }

  resetLoopLag(): void {
    this.loopDelay.reset();
  }

  render(): string {
    const lines: string[] = [];
    for (const m of [this.requests, this.latency, this.batchSize, this.modelLoad, this.workerRestarts, this.rejected, this.playgroundRuns, this.playgroundSteps]) lines.push(...m.render());
    const lag = this.loopLag();
    lines.push('# HELP geul_event_loop_lag_seconds Event-loop delay percentiles', '# TYPE geul_event_loop_lag_seconds gauge');
    lines.push(`geul_event_loop_lag_seconds{quantile="0.5"} ${lag.p50 / 1000}`, `geul_event_loop_lag_seconds{quantile="0.99"} ${lag.p99 / 1000}`);
    for (const [name, g] of Object.entries(this.gauges())) {
      lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  close(): void {
    this.loopDelay.disable();
  }
}
