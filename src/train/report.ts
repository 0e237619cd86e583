// A run's results on disk: metrics.json and a self-contained report.html (inline SVG curves per epoch, confusion matrix).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassificationMetrics } from './metrics.js';

/** One epoch of a run, as the training loop reports it. */
export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validAccuracy: number;
  validLoss?: number;
  validF1Macro?: number;
  seconds?: number;
  examplesPerSecond?: number;
}

export interface RunSummary {
  /** Model kind ("bow", "gru" …). */
  model: string;
  /** Epoch whose model was exported (the best validation accuracy). */
  epoch: number;
  /** Validation metrics of that epoch. */
  metrics: ClassificationMetrics;
  history: EpochPoint[];
  /** Run options worth showing (data, epochs, batch size …). */
  options?: Record<string, unknown>;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

/** An SVG line chart over epochs; a series with one point is drawn as a dot. */
export function lineChart(title: string, series: Series[], options: { yMin?: number; yMax?: number } = {}): string {
  const W = 480;
  const H = 260;
  const L = 52;
  const R = 16;
  const T = 30;
  const B = 44;
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xMin = Math.min(...xs, 1);
  const xMax = Math.max(...xs, xMin + 1);
  let yMin = options.yMin ?? Math.min(...ys, Infinity);
  let yMax = options.yMax ?? Math.max(...ys, -Infinity);
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [0, 1];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - yMin) / (yMax - yMin)) * (H - T - B);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escape(title)}">`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="t">${escape(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" class="g"/><text x="${L - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${y.toPrecision(3)}</text>`);
  }
  const step = Math.max(1, Math.ceil((xMax - xMin) / 10));
  for (let x = Math.ceil(xMin); x <= xMax; x += step) parts.push(`<text x="${px(x).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${x}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`);
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="a"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="a"/>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"><title>${escape(s.name)} epoch ${x}: ${y.toFixed(4)}</title></circle>`);
    parts.push(`<rect x="${L + 8 + i * 130}" y="${T + 4}" width="10" height="10" fill="${s.color}"/><text x="${L + 22 + i * 130}" y="${T + 13}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The confusion matrix as an HTML table, cells shaded by their share of the row (recall per true label). */
export function confusionTable(confusion: number[][], labels: string[]): string {
  const head = `<tr><th class="corner">true \\ predicted</th>${labels.map((l) => `<th>${escape(l)}</th>`).join('')}</tr>`;
  const rows = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const cells = row.map((n, j) => {
      const share = n / total;
      const color = i === j ? `rgba(46,125,50,${(0.1 + 0.8 * share).toFixed(2)})` : `rgba(198,40,40,${(0.8 * share).toFixed(2)})`;
      return `<td style="background:${color}" title="${(share * 100).toFixed(1)} % of ${escape(labels[i])}">${n}</td>`;
    });
    return `<tr><th>${escape(labels[i])}</th>${cells.join('')}</tr>`;
  });
  return `<table class="cm">${head}${rows.join('')}</table>`;
}

/** The whole report page: summary, curves, per-class table and confusion matrix; no external assets. */
export function reportHtml(run: RunSummary): string {
  const m = run.metrics;
  const epochs = run.history;
  const loss = lineChart('Loss', [
    { name: 'train loss', color: '#1565c0', points: epochs.map((e) => [e.epoch, e.trainLoss]) },
    ...(epochs.some((e) => e.validLoss !== undefined) ? [{ name: 'validation loss', color: '#ef6c00', points: epochs.map((e): [number, number] => [e.epoch, e.validLoss ?? Number.NaN]) }] : []),
  ]);
  const accuracy = lineChart('Accuracy', [
    { name: 'train accuracy', color: '#1565c0', points: epochs.map((e) => [e.epoch, e.trainAccuracy]) },
    { name: 'validation accuracy', color: '#ef6c00', points: epochs.map((e) => [e.epoch, e.validAccuracy]) },
  ]);
  const perClass = m.labels.map((l) => {
    const c = m.per_class[l];
    return `<tr><th>${escape(l)}</th><td>${fmt(c.precision)}</td><td>${fmt(c.recall)}</td><td>${fmt(c.f1)}</td><td>${c.support}</td></tr>`;
  }).join('');
  const epochRows = epochs.map((e) => `<tr${e.epoch === run.epoch ? ' class="best"' : ''}><td>${e.epoch}</td><td>${fmt(e.trainLoss)}</td><td>${fmt(e.trainAccuracy)}</td><td>${fmt(e.validLoss)}</td><td>${fmt(e.validAccuracy)}</td><td>${fmt(e.validF1Macro)}</td><td>${fmt(e.seconds, 1)}</td></tr>`).join('');
  const options = run.options ? Object.entries(run.options).filter(([, v]) => v !== undefined && typeof v !== 'object').map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(String(v))}</td></tr>`).join('') : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>geul run: ${escape(run.model)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f5f5f5}
.cm td{min-width:3em;text-align:center}.best{font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:1em}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .t{font-size:13px;font-weight:bold}svg .g{stroke:#eee}svg .a{stroke:#888}
.summary td{font-size:1.2em}
</style></head><body>
<h1>Training run: ${escape(run.model)}</h1>
<table class="summary"><tr><th>best epoch</th><th>accuracy</th><th>macro F1</th><th>macro precision</th><th>macro recall</th>${m.roc_auc !== undefined ? '<th>ROC-AUC</th>' : ''}<th>validation examples</th></tr>
<tr><td>${run.epoch}</td><td>${fmt(m.accuracy)}</td><td>${fmt(m.f1_macro)}</td><td>${fmt(m.precision)}</td><td>${fmt(m.recall)}</td>${m.roc_auc !== undefined ? `<td>${fmt(m.roc_auc)}</td>` : ''}<td>${m.examples}</td></tr></table>
<h2>Curves</h2><div class="charts">${loss}${accuracy}</div>
<h2>Epochs</h2><table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>valid loss</th><th>valid acc</th><th>valid macro F1</th><th>seconds</th></tr>${epochRows}</table>
<h2>Per class (validation, best epoch)</h2><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>${perClass}</table>
<h2>Confusion matrix</h2>${confusionTable(m.confusion, m.labels)}
${options ? `<h2>Options</h2><table>${options}</table>` : ''}
</body></html>
`;
}

/** The metrics.json object: the best epoch's metrics at the top level, plus the model kind and every epoch. */
export function metricsJson(run: RunSummary): Record<string, unknown> {
  return { model: run.model, epoch: run.epoch, ...run.metrics, history: run.history };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.incomplete`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Writes `out`/metrics.json and `out`/report.html (each replaced atomically). */
export async function writeRunReport(out: string, run: RunSummary): Promise<void> {
  await writeAtomic(join(out, 'metrics.json'), `${JSON.stringify(metricsJson(run), null, 2)}\n`);
  await writeAtomic(join(out, 'report.html'), reportHtml(run));
}

/** The best epoch and its metrics from an earlier run's metrics.json (for resuming), if there is one. */
export async function readBestRun(out: string): Promise<{ epoch: number; metrics: ClassificationMetrics } | undefined> {
  try {
    const saved = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as ClassificationMetrics & { epoch: number; model?: string; history?: unknown };
    const { epoch, model: _model, history: _history, ...metrics } = saved;
    return typeof epoch === 'number' && Array.isArray(metrics.confusion) ? { epoch, metrics } : undefined;
  } catch {
    return undefined;
  }
}
