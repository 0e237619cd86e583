// The run report: metrics.json fields and a self-contained report.html with SVG curves and the confusion matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classificationMetrics } from '../../src/train/metrics.js';
import { lineChart, readBestRun, reportHtml, writeRunReport, type RunSummary } from '../../src/train/report.js';

const run = (): RunSummary => ({
  model: 'gru',
  epoch: 2,
  metrics: classificationMetrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ['<neg>', 'pos & co'], [0.2, 0.6, 0.9, 0.7, 0.4]),
  history: [
    { epoch: 1, trainLoss: 0.69, trainAccuracy: 0.5, validAccuracy: 0.4, validLoss: 0.7, validF1Macro: 0.4, seconds: 1.5 },
    { epoch: 2, trainLoss: 0.41, trainAccuracy: 0.8, validAccuracy: 0.6, validLoss: 0.6, validF1Macro: 0.58, seconds: 1.2 },
    { epoch: 3, trainLoss: 0.2, trainAccuracy: 0.95, validAccuracy: 0.6, validLoss: 0.8, validF1Macro: 0.55, seconds: 1.1 },
  ],
  options: { data: 'train.tsv', epochs: 3, hub: { token: 'secret' } },
});

test('report.html: self-contained, SVG loss and accuracy curves, escaped labels, the confusion matrix', () => {
  const html = reportHtml(run());
  assert.match(html, /^<!doctype html>/);
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.equal((html.match(/<polyline /g) ?? []).length, 4, 'train/valid loss and train/valid accuracy');
  assert.ok(!/<(script|link|img)\b/i.test(html), 'no scripts or external assets');
  assert.ok(!/(src|href)=/.test(html));
  assert.ok(html.includes('&#60;neg&#62;') && html.includes('pos &#38; co'), 'labels are escaped');
  assert.ok(!html.includes('<neg>'));
  // confusion [[1, 1], [1, 2]]
  assert.match(html, /<table class="cm">.*<td[^>]*>1<\/td><td[^>]*>1<\/td>.*<td[^>]*>1<\/td><td[^>]*>2<\/td>/s);
  assert.match(html, /<tr class="best"><td>2<\/td>/);
  assert.ok(!html.includes('secret'), 'object options are not shown');
});

test('a single epoch is drawn as dots; flat series still get an axis range', () => {
  const svg = lineChart('Loss', [{ name: 'train loss', color: '#000', points: [[1, 0.5]] }]);
  assert.ok(!svg.includes('<polyline'));
  assert.equal((svg.match(/<circle /g) ?? []).length, 1);
  assert.ok(!svg.includes('NaN'));
});

test('metrics.json holds the best epoch\'s metrics at the top level and reads back for resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-report-'));
  try {
    await writeRunReport(dir, run());
    const json = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    assert.equal(json.model, 'gru');
    assert.equal(json.epoch, 2);
    assert.equal(json.accuracy, 0.6);
    assert.deepEqual(json.confusion, [[1, 1], [1, 2]]);
    assert.deepEqual(json.labels, ['<neg>', 'pos & co']);
    assert.ok(Math.abs(json.roc_auc - 5 / 6) < 1e-9);
    assert.equal(json.history.length, 3);
    assert.ok(readFileSync(join(dir, 'report.html'), 'utf8').includes('<svg'));
    const best = await readBestRun(dir);
    assert.equal(best?.epoch, 2);
    assert.deepEqual(best?.metrics.confusion, [[1, 1], [1, 2]]);
    assert.equal(await readBestRun(join(dir, 'nothing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
