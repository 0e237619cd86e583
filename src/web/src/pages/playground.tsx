// Neural-network basics, after TensorFlow Playground: a perceptron or an MLP learns a 2-D toy set live, trained on the
// server by geul's own engine (POST /v1/playground/train streams loss, accuracy and the decision boundary); below it,
// the RNN / LSTM / GRU race on a sequence task.
import { useEffect, useState } from 'preact/hooks';
import { BoundaryPlot } from '../components/boundary-plot';
import { ErrorBox } from '../components/error-box';
import { LossChart, type Curve } from '../components/loss-chart';
import { readUrlState, writeUrlState } from '../url-state';
import { useStreamRun } from '../use-stream-run';
import { SequenceRace } from './playground-sequence';

interface Settings {
  dataset: 'xor' | 'circles' | 'spirals' | 'moons';
  model: 'perceptron' | 'mlp';
  layers: number;
  width: number;
  activation: 'relu' | 'tanh' | 'sigmoid';
  lr: number;
  batch_size: number;
  noise: number;
  steps: number;
  seed: number;
}

interface Report { step: number; loss: number; accuracy: number; grid: number[] }

const DEFAULTS: Settings = { dataset: 'xor', model: 'mlp', layers: 2, width: 8, activation: 'tanh', lr: 0.03, batch_size: 32, noise: 0.05, steps: 1000, seed: 1 };
/** Accuracy at which a boundary counts as solving the set. */
const SOLVED = 0.95;
const EMPTY: Curve = { steps: [], loss: [], accuracy: [] };

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function NumberField({ id, label, value, min, max, step, disabled, onChange }: { id: string; label: string; value: number; min: number; max: number; step?: number | 'any'; disabled?: boolean; onChange(v: number): void }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} type="number" min={min} max={max} step={step ?? 1} value={value} disabled={disabled}
        onInput={(e) => { const v = (e.currentTarget as HTMLInputElement).valueAsNumber; if (Number.isFinite(v)) onChange(v); }} />
    </div>
  );
}

function SelectField<T extends string>({ id, label, value, options, onChange }: { id: string; label: string; value: T; options: [T, string][]; onChange(v: T): void }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as T)}>
        {options.map(([v, text]) => <option value={v}>{text}</option>)}
      </select>
    </div>
  );
}

function verdict(s: Settings, report: Report): string {
  if (report.accuracy >= SOLVED) return `Solved: the boundary separates ${pct(report.accuracy)} of the points.`;
  if (s.model === 'perceptron' && s.dataset !== 'moons') return `Not solved (${pct(report.accuracy)}): a perceptron draws one straight line, and ${s.dataset === 'xor' ? 'XOR' : s.dataset} needs a curved boundary. Try the MLP.`;
  return `Not solved yet (${pct(report.accuracy)}): try more steps, more neurons or another learning rate.`;
}

export function PlaygroundPage() {
  // The settings live in the address, so a setup can be shared as a link.
  const [s, setS] = useState<Settings>(() => readUrlState(DEFAULTS));
  const [points, setPoints] = useState<{ x: number[]; y: number[] } | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [curve, setCurve] = useState<Curve>(EMPTY);
  const { phase, error, start: startStream, stop } = useStreamRun();
  const set = <K extends keyof Settings>(key: K) => (value: Settings[K]) => setS((old) => ({ ...old, [key]: value }));

  useEffect(() => writeUrlState(s, DEFAULTS), [s]);

  const start = async () => {
    setReport(null);
    setCurve(EMPTY);
    const body = { ...s, every: Math.max(1, Math.round(s.steps / 100)), grid: 40 };
    const history: Curve = { steps: [], loss: [], accuracy: [] };
    await startStream('/v1/playground/train', body, (event, setPhase) => {
      if (event.dataset) setPoints(event.dataset as { x: number[]; y: number[] });
      else if (typeof event.step === 'number') {
        const r = event as unknown as Report & { done?: boolean };
        setReport(r);
        if (r.done) { setPhase('done'); return; }
        history.steps.push(r.step);
        history.loss.push(r.loss);
        history.accuracy.push(r.accuracy);
        setCurve({ ...history });
      }
    });
  };

  const running = phase === 'running';
  return (
    <>
      <header class="page-head">
        <h1>Neural-network basics</h1>
        <p>Watch a perceptron fail on XOR and a small MLP solve it. The server trains each model live with geul's own training engine (the ONNX graphs <code>geul train</code> uses) and streams the loss and the decision boundary as it learns. Further down, a plain RNN, an LSTM and a GRU race on a sequence task.</p>
      </header>
      <form class="playground-form" onSubmit={(e) => { e.preventDefault(); void start(); }}>
        <div class="option-grid">
          <SelectField id="pg-dataset" label="Data set" value={s.dataset} onChange={set('dataset')}
            options={[['xor', 'XOR (four quadrants)'], ['circles', 'Circles (one inside another)'], ['spirals', 'Spirals (two arms)'], ['moons', 'Moons (two half-moons)']]} />
          <SelectField id="pg-model" label="Model" value={s.model} onChange={set('model')}
            options={[['mlp', 'MLP (hidden layers)'], ['perceptron', 'Perceptron (one linear layer)']]} />
          <NumberField id="pg-layers" label="Hidden layers" value={s.layers} min={1} max={6} disabled={s.model === 'perceptron'} onChange={set('layers')} />
          <NumberField id="pg-width" label="Neurons per layer" value={s.width} min={1} max={32} disabled={s.model === 'perceptron'} onChange={set('width')} />
          <SelectField id="pg-activation" label="Activation" value={s.activation} onChange={set('activation')}
            options={[['tanh', 'tanh'], ['relu', 'ReLU'], ['sigmoid', 'sigmoid']]} />
          <NumberField id="pg-lr" label="Learning rate (Adam)" value={s.lr} min={0.0001} max={1} step="any" onChange={set('lr')} />
          <NumberField id="pg-batch" label="Batch size" value={s.batch_size} min={1} max={1000} onChange={set('batch_size')} />
          <NumberField id="pg-noise" label="Noise" value={s.noise} min={0} max={0.5} step="any" onChange={set('noise')} />
          <NumberField id="pg-steps" label="Steps" value={s.steps} min={1} max={5000} onChange={set('steps')} />
          <NumberField id="pg-seed" label="Seed" value={s.seed} min={0} max={2147483647} onChange={set('seed')} />
        </div>
        <div class="actions">
          <button type="submit">{running ? 'Restart' : 'Start'}</button>
          <button type="button" class="secondary" disabled={!running} onClick={stop}>Stop</button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      <p class="meta" role="status" data-testid="pg-status" data-phase={phase}>
        {phase === 'idle' && 'Choose a data set and a model, then Start.'}
        {report && <>Step {report.step} of {s.steps} · loss {report.loss.toFixed(3)} · accuracy <strong data-testid="pg-accuracy">{pct(report.accuracy)}</strong></>}
        {phase === 'running' && !report && 'Starting…'}
        {phase === 'stopped' && ' · stopped'}
      </p>
      {phase === 'done' && report && <p class={report.accuracy >= SOLVED ? 'verdict solved' : 'verdict'} data-testid="pg-verdict">{verdict(s, report)}</p>}
      {points && (
        <div class="playground-view">
          <figure>
            <BoundaryPlot x={points.x} y={points.y} grid={report?.grid ?? []} />
            <figcaption class="meta">Points: <span class="swatch class0" /> class 0, <span class="swatch class1" /> class 1; the shading is the model's answer across the square.</figcaption>
          </figure>
          <figure class="grow">
            <LossChart curve={curve} />
            <figcaption class="meta">Cross-entropy loss (solid) and accuracy (dashed) over all points.</figcaption>
          </figure>
        </div>
      )}
      <SequenceRace />
    </>
  );
}
