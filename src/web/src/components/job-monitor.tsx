// One training job, live: its state, progress with examples/s and ETA, loss and accuracy curves (uPlot, with a
// smoothing slider) from GET /v1/jobs/:id/events, a cancel button, and at the end the confusion matrix and
// per-class metrics from the run's metrics.json artifact, with a link to use the model.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getEvents, getJson, postJson } from '../api';
import { CurveChart, type Curve } from './curve-chart';
import { ErrorBox } from './error-box';

export interface JobInfo {
  id: string;
  type: string;
  state: string;
  progress: { step: number; total: number | null; eta_s: number | null };
  error: { code: string; message: string } | null;
  created_at: number;
  params?: { data?: { valid?: string; validFraction?: number } };
}

interface RunMetrics {
  accuracy: number;
  f1_macro: number;
  labels: string[];
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion: number[][];
}

const FINAL = ['succeeded', 'failed', 'cancelled'];

interface Live {
  state: string;
  step: number;
  total: number | null;
  steps: number[];
  loss: number[];
  accuracy: number[];
  speed?: number;
  /** Validation after each epoch (training and fine-tuning). */
  epochs: { epoch: number; valid_loss: number; valid_accuracy: number; valid_f1_macro: number }[];
  logs: string[];
  error?: { code: string; message: string };
}

function useJobEvents(id: string): Live {
  const [live, setLive] = useState<Live>({ state: 'queued', step: 0, total: null, steps: [], loss: [], accuracy: [], epochs: [], logs: [] });
  useEffect(() => {
    const controller = new AbortController();
    const run = async () => {
      let after = 0;
      let ended = false;
      // The stream replays the history, then follows; after a dropped connection it goes on from the last id.
      while (!ended && !controller.signal.aborted) {
        try {
          const batch: Live = { state: '', step: -1, total: null, steps: [], loss: [], accuracy: [], epochs: [], logs: [] };
          for await (const e of getEvents(`/v1/jobs/${id}/events`, after, controller.signal)) {
            after = e.id;
            const d = e.data;
            if (e.event === 'state') {
              batch.state = String(d.state);
              if (d.error) batch.error = d.error as Live['error'];
              ended ||= FINAL.includes(batch.state);
            } else if (e.event === 'progress') {
              batch.step = Number(d.step);
              batch.total = Number(d.total);
            } else if (e.event === 'metrics' && typeof d.step === 'number' && typeof d.loss === 'number') {
              batch.steps.push(d.step);
              batch.loss.push(d.loss);
              batch.accuracy.push(Number(d.accuracy));
              if (typeof d.examples_per_s === 'number') batch.speed = d.examples_per_s;
            } else if (e.event === 'metrics' && typeof d.epoch === 'number' && typeof d.valid_accuracy === 'number') {
              batch.epochs.push(d as unknown as Live['epochs'][number]);
            } else if (e.event === 'log') batch.logs.push(String(d.message));
            merge(batch);
          }
        } catch (err) {
          if (controller.signal.aborted) return;
          setLive((l) => ({ ...l, logs: [...l.logs, `connection lost (${(err as Error).message}); reconnecting`] }));
        }
        if (!ended) await new Promise((r) => setTimeout(r, 1000));
      }
    };
    // Each event is folded in at once: the chart and counters follow the stream as it arrives.
    const merge = (b: Live) => {
      setLive((l) => ({
        state: b.state || l.state, step: b.step >= 0 ? b.step : l.step, total: b.total ?? l.total,
        steps: [...l.steps, ...b.steps], loss: [...l.loss, ...b.loss], accuracy: [...l.accuracy, ...b.accuracy],
        speed: b.speed ?? l.speed, epochs: [...l.epochs, ...b.epochs], logs: [...l.logs, ...b.logs].slice(-50), error: b.error ?? l.error,
      }));
      b.state = ''; b.step = -1; b.total = null; b.steps = []; b.loss = []; b.accuracy = []; b.epochs = []; b.logs = []; b.speed = undefined; b.error = undefined;
    };
    void run();
    return () => controller.abort();
  }, [id]);
  return live;
}

function Confusion({ metrics }: { metrics: RunMetrics }) {
  const max = Math.max(1, ...metrics.confusion.flat());
  return (
    <div class="table-wrap">
      <table class="heatmap confusion" aria-label="Confusion matrix (rows: true label, columns: predicted)">
        <thead><tr><td>true \ predicted</td>{metrics.labels.map((l) => <th scope="col">{l}</th>)}</tr></thead>
        <tbody>
          {metrics.confusion.map((row, i) => (
            <tr>
              <th scope="row">{metrics.labels[i]}</th>
              {row.map((v) => <td class={v / max > 0.6 ? 'cell strong' : 'cell'} style={{ '--v': String(v / max) }}>{v}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Where the held-out metrics come from: the job's validation file, or a share of its training data. */
function heldOutSource(job: JobInfo | null): string {
  const data = job?.params?.data;
  if (data?.valid) return `the validation file ${data.valid}`;
  return `${Math.round(100 * (data?.validFraction ?? 0.2))}% of the training data held out`;
}

function Results({ id, source }: { id: string; source: string }) {
  const [metrics, setMetrics] = useState<RunMetrics | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getJson<RunMetrics>(`/v1/jobs/${id}/artifacts/run/metrics.json`).then(setMetrics, setError);
  }, [id]);
  if (error) return <ErrorBox error={error} />;
  if (!metrics) return <p class="loading">Loading the run's metrics…</p>;
  const f = (v: number) => v.toFixed(3);
  return (
    <section class="job-results" aria-label="Results">
      <h3>Results (validation, best epoch)</h3>
      <p class="meta" data-testid="held-out">Measured on {source}.</p>
      <p>Accuracy <strong data-testid="final-accuracy">{f(metrics.accuracy)}</strong>, macro F1 {f(metrics.f1_macro)}.{' '}
        <a href={`/ui/tasks/classify?model=${encodeURIComponent(id)}`}>Classify with this model</a> (it is listed as <code>{id}</code> in the model pickers).</p>
      <h4>Confusion matrix</h4>
      <Confusion metrics={metrics} />
      <h4>Per class</h4>
      <div class="table-wrap">
        <table class="results per-class">
          <thead><tr><th>label</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">support</th></tr></thead>
          <tbody>{metrics.labels.map((l) => {
            const c = metrics.per_class[l]!;
            return <tr><th scope="row">{l}</th><td class="num">{f(c.precision)}</td><td class="num">{f(c.recall)}</td><td class="num">{f(c.f1)}</td><td class="num">{c.support}</td></tr>;
          })}</tbody>
        </table>
      </div>
    </section>
  );
}

function eta(seconds: number | null): string {
  if (seconds === null) return '—';
  return seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

export function JobMonitor({ id, onFinished }: { id: string; onFinished?(): void }) {
  const live = useJobEvents(id);
  const [smoothing, setSmoothing] = useState(0.6);
  const [job, setJob] = useState<JobInfo | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const final = FINAL.includes(live.state);
  const box = useRef<HTMLElement>(null);
  // A job just started (or picked from the list) is below the form: bring it into view.
  useEffect(() => box.current?.scrollIntoView({ block: 'start' }), [id]);
  // The server's ETA (from the job's elapsed time), asked again as progress moves.
  useEffect(() => {
    getJson<JobInfo>(`/v1/jobs/${id}`).then(setJob, setProblem);
  }, [id, Math.floor(live.step / Math.max(1, (live.total ?? 100) / 20)), live.state]);
  useEffect(() => { if (final) onFinished?.(); }, [final]);
  const cancel = async () => {
    try {
      setJob(await postJson<JobInfo>(`/v1/jobs/${id}/cancel`, {}));
    } catch (err) {
      setProblem(err);
    }
  };
  const curves: Curve[][] = [[{ label: 'loss', values: live.loss }], [{ label: 'accuracy', values: live.accuracy }]];
  const percent = live.total ? Math.round((100 * live.step) / live.total) : 0;
  return (
    <section class="job-monitor" aria-label={`Job ${id}`} ref={box}>
      <h2>Job <code>{id}</code> <span class={`state state-${live.state}`} data-testid="job-state">{live.state}</span></h2>
      <div class="row">
        <progress max={100} value={percent} aria-label="Progress" />
        <span>step {live.step}{live.total ? ` of ${live.total}` : ''}</span>
        <span data-testid="speed">{live.speed !== undefined ? `${live.speed.toFixed(0)} examples/s` : ''}</span>
        <span>ETA {eta(final ? null : job?.progress.eta_s ?? null)}</span>
        {!final && <button type="button" class="secondary" onClick={cancel}>Cancel</button>}
      </div>
      {problem !== null && <ErrorBox error={problem} />}
      {live.error && <div class="error" role="alert"><strong>{live.error.message}</strong> <span class="code">({live.error.code})</span></div>}
      <label class="row smoothing">Smoothing
        <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onInput={(e) => setSmoothing(Number((e.currentTarget as HTMLInputElement).value))} />
        <output>{smoothing.toFixed(2)}</output>
      </label>
      {live.steps.length === 0 ? <p class="loading">{final ? 'No training steps were recorded.' : 'Waiting for the first training steps…'}</p> : (
        <div class="curves">
          <CurveChart title="Loss" steps={live.steps} curves={curves[0]!} smoothing={smoothing} />
          <CurveChart title="Accuracy (training batches)" steps={live.steps} curves={curves[1]!} smoothing={smoothing} />
        </div>
      )}
      {live.epochs.length > 0 && (
        <div class="table-wrap">
          <table class="results epochs" aria-label="Validation after each epoch">
            <thead><tr><th class="num">epoch</th><th class="num">validation loss</th><th class="num">validation accuracy</th><th class="num">macro F1</th></tr></thead>
            <tbody>{live.epochs.map((e) => (
              <tr><td class="num">{e.epoch}</td><td class="num">{e.valid_loss.toFixed(4)}</td><td class="num">{e.valid_accuracy.toFixed(3)}</td><td class="num">{e.valid_f1_macro.toFixed(3)}</td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
      {live.state === 'succeeded' && <Results id={id} source={heldOutSource(job)} />}
      {live.logs.length > 0 && <details class="job-log"><summary>Log</summary><pre>{live.logs.join('\n')}</pre></details>}
    </section>
  );
}
