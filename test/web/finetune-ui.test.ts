// Fine-tuning from the Train & fine-tune page in Chromium against a real server running a real job: a tiny BERT
// fixture fine-tuned for one epoch on an uploaded TSV, with a separately uploaded validation file the held-out metrics
// come from; live curve, confusion matrix and per-class table; the model it made is offered and answers on the classify page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { writeToyTsv } from '../jobs/helpers.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { serverConfig } from '../helpers/server.js';

const TRAIN_ROWS = 40;
const VALID_ROWS = 14;

describe('Fine-tuning from the Train & fine-tune page in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'geul-ui-finetune-'));

  before(async () => {
    writeToyTsv(join(dir, 'reviews.tsv'), TRAIN_ROWS);
    writeToyTsv(join(dir, 'held-out.tsv'), VALID_ROWS);
    ({ app, url: base } = await listeningServer(serverConfig({ modelsDir: await fixturesDir() })));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a tiny fine-tune job runs to the end: live curve, metrics from the validation file, its model classifies', { timeout: 120_000 }, async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/train`);
    await page.setInputFiles('#train-upload', join(dir, 'reviews.tsv'));
    await page.getByTestId('train-data').waitFor();
    // A validation file chosen, taken back (the page forgets it), then chosen again.
    await page.setInputFiles('#valid-upload', join(dir, 'held-out.tsv'));
    await page.getByTestId('valid-data').waitFor();
    await page.getByRole('button', { name: 'No validation file' }).click();
    await page.getByTestId('valid-data').waitFor({ state: 'detached' });
    assert.equal(await page.inputValue('#valid-upload'), '', 'the file input is emptied');
    await page.setInputFiles('#valid-upload', join(dir, 'held-out.tsv'));
    await page.getByTestId('valid-data').waitFor();
    const validId = /, (file-[^)]+)\)$/.exec(await page.getByTestId('valid-data').textContent() ?? '')?.[1];
    assert.ok(validId, 'the validation upload names its file id');

    await page.selectOption('#train-type', 'finetune');
    await page.locator('#train-model option', { hasText: /^tiny-bert-embed$/ }).waitFor({ state: 'attached' });
    await page.selectOption('#train-model', 'tiny-bert-embed');
    await page.fill('#param-run-epochs', '1');
    await page.fill('#param-run-batchSize', '8');
    await page.fill('#param-run-seed', '5');
    await page.fill('#param-run-threads', '1');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('[data-testid=job-state]', { hasText: 'succeeded' }).waitFor({ timeout: 100_000 });

    // 40 rows in batches of 8: 5 steps, every one a point of the live curves.
    assert.equal(await page.locator('.curve-chart').count(), 2);
    assert.equal(Number(await page.locator('.curve-chart').first().getAttribute('data-points')), TRAIN_ROWS / 8, 'every training row trained (none held out)');
    assert.equal(await page.locator('.curve-chart canvas').count(), 2, 'uPlot drew both charts');
    assert.equal(await page.locator('.epochs tbody tr').count(), 1, 'one validation, after the one epoch');

    await page.locator('.confusion').waitFor();
    const cells = (await page.locator('.confusion td.cell').allTextContents()).map(Number);
    assert.equal(cells.length, 4, 'a 2 × 2 matrix for two labels');
    assert.equal(cells.reduce((a, b) => a + b, 0), VALID_ROWS, 'the confusion matrix counts the validation file\'s rows');
    assert.deepEqual((await page.locator('.per-class tbody th').allTextContents()).sort(), ['negative', 'positive']);
    const support = (await page.locator('.per-class tbody td:last-child').allTextContents()).map(Number);
    assert.deepEqual(support, [VALID_ROWS / 2, VALID_ROWS / 2]);
    assert.equal(await page.getByTestId('held-out').textContent(), `Measured on the validation file ${validId}.`);
    await screenshot(page, 'finetune');

    const jobId = (await page.locator('.job-monitor h2 code').textContent())!;
    await page.getByRole('link', { name: 'Classify with this model' }).click();
    await page.locator('#field-inputs').waitFor();
    await page.locator(`#model-options option[value="${jobId}"]`).waitFor({ state: 'attached' });
    assert.equal(await page.inputValue('#field-model'), jobId, 'the link chose the fine-tuned model');
    await page.fill('#field-inputs', 'a wonderful film');
    await page.click('button[type=submit]');
    await page.locator('.bars tr').first().waitFor();
    assert.deepEqual((await page.locator('.bars th').allTextContents()).sort(), ['negative', 'positive'], 'the labels of the fine-tuning data');
    await screenshot(page, 'finetune-classify');
    assert.deepEqual(problems, []);
  });
});
