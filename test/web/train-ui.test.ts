// The Train & fine-tune page in Chromium against a real server running real jobs: a tiny classifier trained on an
// uploaded TSV runs to the end with live curves, its confusion matrix and per-class metrics; the model it made is
// offered and answers on the classify page; another job is cancelled from the page; allowed server datasets are listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { writeToyTsv } from '../jobs/helpers.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { serverConfig } from '../helpers/server.js';

describe('Train & fine-tune page in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'geul-ui-train-'));

  before(async () => {
    writeToyTsv(join(dir, 'toy.tsv'));
    writeToyTsv(join(dir, 'server-reviews.tsv'), 40);
    ({ app, url: base } = await listeningServer(serverConfig({ modelsDir: await fixturesDir(), datasets: { reviews: join(dir, 'server-reviews.tsv') } })));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fills the setup form: an uploaded file, the lstm architecture, tiny sizes, `epochs`. */
  async function setUp(page: Page, epochs: number): Promise<void> {
    await page.goto(`${base}/ui/train`);
    await page.setInputFiles('#train-upload', join(dir, 'toy.tsv'));
    await page.getByTestId('train-data').waitFor();
    assert.match(await page.getByTestId('train-data').textContent() ?? '', /toy\.tsv \(\d+ bytes, file-/);
    await page.selectOption('#train-model', 'lstm');
    for (const section of ['data', 'model']) await page.locator('details.options summary', { hasText: new RegExp(`^${section}$`) }).click();
    await page.fill('#param-data-maxLength', '10');
    await page.fill('#param-data-vocabSize', '50');
    await page.fill('#param-model-dim', '8');
    await page.fill('#param-model-hidden', '8');
    await page.fill('#param-run-epochs', String(epochs));
    await page.fill('#param-run-batchSize', '16');
    await page.fill('#param-run-seed', '3');
    await page.fill('#param-run-threads', '1');
  }

  test('a tiny training job runs to the end: curves, examples/s, confusion matrix, per-class metrics; its model classifies', { timeout: 180_000 }, async () => {
    const { page, problems } = await newPage(browser);
    await setUp(page, 3);
    assert.match(await page.locator('#param-optim-name').locator('option').first().textContent() ?? '', /adam \(default\)/, 'defaults are shown');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('[data-testid=job-state]', { hasText: 'succeeded' }).waitFor({ timeout: 150_000 });

    const charts = page.locator('.curve-chart');
    assert.equal(await charts.count(), 2);
    assert.ok(Number(await charts.first().getAttribute('data-points')) >= 2, 'the loss curve has its points');
    assert.equal(await page.locator('.curve-chart canvas').count(), 2, 'uPlot drew both charts');
    assert.match(await page.getByTestId('speed').textContent() ?? '', /\d+ examples\/s/);
    await page.getByRole('slider').fill('0.9');
    assert.equal(await page.locator('.smoothing output').textContent(), '0.90');

    await page.locator('.confusion').waitFor();
    const cells = (await page.locator('.confusion td.cell').allTextContents()).map(Number);
    assert.equal(cells.length, 4, 'a 2 × 2 matrix for two labels');
    assert.ok(cells.reduce((a, b) => a + b, 0) > 0);
    assert.deepEqual((await page.locator('.per-class tbody th').allTextContents()).sort(), ['negative', 'positive']);
    assert.equal(await page.locator('.epochs tbody tr').count(), 3, 'validation after each of the 3 epochs');
    assert.match(await page.getByTestId('final-accuracy').textContent() ?? '', /^[01]\.\d{3}$/);
    assert.equal(await page.getByTestId('held-out').textContent(), 'Measured on 20% of the training data held out.', 'no validation file: a held-out share');
    assert.equal(cells.reduce((a, b) => a + b, 0), 32, 'the confusion matrix counts the held-out 20% of 160 rows');
    assert.ok(await page.locator('.past-jobs td.state-succeeded').count() >= 1, 'the job is in the list of past jobs');
    await screenshot(page, 'train');

    const jobId = (await page.locator('.job-monitor h2 code').textContent())!;
    await page.getByRole('link', { name: 'Classify with this model' }).click();
    await page.locator('#field-inputs').waitFor();
    await page.locator(`#model-options option[value="${jobId}"]`).waitFor({ state: 'attached' });
    assert.equal(await page.inputValue('#field-model'), jobId, 'the link chose the trained model');
    await page.fill('#field-inputs', 'a wonderful film');
    await page.click('button[type=submit]');
    await page.locator('.bars tr').first().waitFor();
    assert.deepEqual((await page.locator('.bars th').allTextContents()).sort(), ['negative', 'positive']);
    await screenshot(page, 'train-classify');
    assert.deepEqual(problems, []);
  });

  test('at phone width, a running job is cancelled from the page; server datasets are offered by name', { timeout: 120_000 }, async () => {
    const { page, problems } = await newPage(browser, { width: 390, height: 844 });
    await setUp(page, 2000);
    assert.deepEqual(await page.locator('#train-dataset option').allTextContents(), ['—', 'reviews (server-reviews.tsv)']);
    assert.deepEqual(await page.locator('#valid-dataset option').allTextContents(), ['none: hold out a share of the training data', 'reviews (server-reviews.tsv)'], 'a server dataset may also be the validation data');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('[data-testid=job-state]', { hasText: 'running' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid=job-state]', { hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0, 'no cancel button once it is over');
    await page.locator('.past-jobs td.state-cancelled').first().waitFor();
    assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390, 'nothing wider than the phone');
    await screenshot(page, 'train-cancelled');

    // Fine-tuning starts from a model of the server's catalog; its own hyper-parameters come from its schema.
    await page.selectOption('#train-type', 'finetune');
    await page.locator('#train-model option', { hasText: 'tiny-bert-mlm' }).waitFor({ state: 'attached' });
    const bases = await page.locator('#train-model option').allTextContents();
    assert.ok(!bases.includes('tiny-gpt2'), `only encoders are offered as a base: ${bases.join(', ')}`);
    await page.locator('details.options summary', { hasText: /^optim$/ }).click();
    assert.match(await page.getAttribute('#param-optim-lr', 'placeholder') ?? '', /^default: /);
    assert.deepEqual(problems, []);
  });
});
