// The playground's sequence race: a plain RNN, an LSTM and a GRU learn "the class is the first token" side by side,
// trained on the server (POST /v1/playground/sequence streams each cell's held-out loss and accuracy).
import { useEffect, useState } from 'preact/hooks';
import { CurveChart, type Curve } from '../components/curve-chart';
import { ErrorBox } from '../components/error-box';
import { readUrlState, writeUrlState } from '../url-state';
import { useStreamRun } from '../use-stream-run';

const CELLS = [['rnn', 'RNN'], ['lstm', 'LSTM'], ['gru', 'GRU']] as const;
type CellName = (typeof CELLS)[number][0];
interface Score { loss: number; accuracy: number }
type Report = { step: number } & Record<CellName, Score>;

interface Settings { length: number; hidden: number; lr: number; steps: number; seed: number }
const DEFAULTS: Settings = { length: 40, hidden: 16, lr: 0.01, steps: 300, seed: 1 };
/** Accuracy at which a cell counts as having learned the task. */
const LEARNED = 0.95;

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function verdict(length: number, end: Report): string {
  const learned = CELLS.filter(([c]) => end[c].accuracy >= LEARNED).map(([, label]) => label);
  if (learned.length === 3) return `All three learned it: over at most ${length} tokens even the plain RNN still remembers the first one. Try a longer sequence.`;
  if (learned.length === 0) return 'None learned it yet: try more steps or another learning rate.';
  const missed = CELLS.filter(([c]) => end[c].accuracy < LEARNED).map(([, label]) => label);
  return `${learned.join(' and ')} learned it, ${missed.join(' and ')} did not: ${missed.includes('RNN') ? "the plain RNN's memory of the first token fades long before the end" : 'try more steps'}.`;
}

export function SequenceRace() {
  // In the address under seq_…, beside the 2-D playground's settings.
  const [s, setS] = useState<Settings>(() => readUrlState(DEFAULTS, 'seq_'));
  const [reports, setReports] = useState<Report[]>([]);
  const { phase, error, start, stop: abort } = useStreamRun();
  const set = <K extends keyof Settings>(key: K) => (e: Event) => {
    const v = (e.currentTarget as HTMLInputElement).valueAsNumber;
    if (Number.isFinite(v)) setS((old) => ({ ...old, [key]: v }));
  };
  useEffect(() => writeUrlState(s, DEFAULTS, 'seq_'), [s]);

  const race = async () => {
    setReports([]);
    const seen: Report[] = [];
    // About 30 reports a run: each scores the three cells on 256 held-out sequences, several training steps' worth.
    const body = { ...s, every: Math.max(1, Math.round(s.steps / 30)) };
    await start('/v1/playground/sequence', body, (event, setPhase) => {
      if (event.done) setPhase('done');
      else if (typeof event.step === 'number') {
        seen.push(event as unknown as Report);
        setReports([...seen]);
      }
    });
  };

  const steps = reports.map((r) => r.step);
  const curves = (metric: keyof Score): Curve[] => CELLS.map(([c, label]) => ({ label, values: reports.map((r) => r[c][metric]) }));
  const last = reports.at(-1);
  const running = phase === 'running';
  return (
    <section class="sequence-race" aria-labelledby="race-title">
      <h2 id="race-title">RNN vs LSTM vs GRU</h2>
      <p>Each sequence starts with a marker token that is its class, then up to {s.length - 1} random tokens follow: to answer, a model has to carry that first token to the end, which the gates of an LSTM or a GRU learn to do while a plain RNN forgets it after a few dozen tokens.</p>
      <form class="playground-form" onSubmit={(e) => { e.preventDefault(); void race(); }}>
        <div class="option-grid">
          <div class="field">
            <label for="seq-length">Longest sequence</label>
            <input id="seq-length" type="range" min={5} max={50} value={s.length} onInput={set('length')} />
            <output for="seq-length" data-testid="seq-length-value">{s.length} tokens</output>
          </div>
          <div class="field">
            <label for="seq-hidden">State size</label>
            <input id="seq-hidden" type="number" min={2} max={32} value={s.hidden} onInput={set('hidden')} />
          </div>
          <div class="field">
            <label for="seq-lr">Learning rate (Adam)</label>
            <input id="seq-lr" type="number" min={0.0001} max={0.1} step="any" value={s.lr} onInput={set('lr')} />
          </div>
          <div class="field">
            <label for="seq-steps">Training steps</label>
            <input id="seq-steps" type="number" min={1} max={600} value={s.steps} onInput={set('steps')} />
          </div>
          <div class="field">
            <label for="seq-seed">Seed</label>
            <input id="seq-seed" type="number" min={0} max={2147483647} value={s.seed} onInput={set('seed')} />
          </div>
        </div>
        <div class="actions">
          <button type="submit">{running ? 'Race again' : 'Race'}</button>
          <button type="button" class="secondary" disabled={!running} onClick={abort}>Abort race</button>
        </div>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      <p class="meta" role="status" data-testid="seq-status" data-phase={phase}>
        {phase === 'idle' && 'Pick a length, then Race: the three cells train on the same batches.'}
        {phase === 'running' && !last && 'Building the three models…'}
        {last && <>After {last.step} of {s.steps} steps, accuracy on 256 held-out sequences:</>}
        {phase === 'stopped' && ' (aborted)'}
      </p>
      {last && (
        <ul class="race-scores">
          {CELLS.map(([c, label]) => <li>{label} <strong data-testid={`seq-acc-${c}`}>{pct(last[c].accuracy)}</strong></li>)}
        </ul>
      )}
      {phase === 'done' && last && <p class="verdict" data-testid="seq-verdict">{verdict(s.length, last)}</p>}
      {reports.length > 0 && (
        <div class="curves">
          <CurveChart title="Accuracy (held-out)" steps={steps} curves={curves('accuracy')} smoothing={0} raw={false} />
          <CurveChart title="Loss (held-out)" steps={steps} curves={curves('loss')} smoothing={0} raw={false} />
        </div>
      )}
    </section>
  );
}
