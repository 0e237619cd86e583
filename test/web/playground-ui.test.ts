// The neural-network playground in Chromium against a real server: on XOR the MLP reaches a solved boundary and the
// perceptron does not; Stop stops the run on the server; the page fits a phone; the RNN / LSTM / GRU race draws
// three curves per chart and the gated cells win at 40 tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { serverConfig } from '../helpers/server.js';

describe('neural-network playground in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    ({ app, url: base } = await listeningServer(serverConfig()));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  const accuracy = async (page: Page) => Number.parseFloat((await page.getByTestId('pg-accuracy').textContent()) ?? 'NaN');

  const trainXor = async (page: Page, model: 'mlp' | 'perceptron') => {
    await page.selectOption('#pg-dataset', 'xor');
    await page.selectOption('#pg-model', model);
    if (model === 'mlp') await page.fill('#pg-layers', '1');
    await page.fill('#pg-steps', '400');
    await page.fill('#pg-seed', '3');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('pg-verdict').waitFor();
    return { verdict: (await page.getByTestId('pg-verdict').textContent()) ?? '', accuracy: await accuracy(page) };
  };

  test('XOR: the MLP reaches a solved boundary, the perceptron does not', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/`);
    await page.getByRole('link', { name: 'Neural-network basics' }).click();
    await page.getByRole('heading', { name: 'Neural-network basics' }).waitFor();

    const mlp = await trainXor(page, 'mlp');
    assert.match(mlp.verdict, /^Solved/);
    assert.ok(mlp.accuracy >= 95, `MLP accuracy ${mlp.accuracy}`);
    assert.match(await page.getByTestId('pg-status').textContent() ?? '', /Step 400 of 400/);
    // XOR's boundary gives half the square to each class; the points and the loss curve are drawn.
    const share = Number(await page.getByTestId('boundary').getAttribute('data-class1-share'));
    assert.ok(share > 30 && share < 70, `class-1 share ${share} %`);
    assert.equal(await page.locator('.boundary canvas').count(), 1);
    assert.match((await page.locator('.loss-chart').getAttribute('aria-label')) ?? '', /over \d+ reports/);
    await screenshot(page, 'playground-xor-mlp');

    const perceptron = await trainXor(page, 'perceptron');
    assert.match(perceptron.verdict, /^Not solved.*straight line/);
    assert.ok(perceptron.accuracy <= 75, `perceptron accuracy ${perceptron.accuracy}`);
    await screenshot(page, 'playground-xor-perceptron');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('Stop stops the run on the server', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/playground`);
    await page.selectOption('#pg-dataset', 'spirals');
    await page.fill('#pg-steps', '5000');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByText(/Step [1-9]\d* of 5000/).waitFor();
    assert.equal(await metric('geul_playground_runs'), 1);
    await page.getByRole('button', { name: 'Stop' }).click();
    for (let i = 0; i < 200 && (await metric('geul_playground_runs')) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await metric('geul_playground_runs'), 0, 'the server stopped the run');
    assert.equal(await page.getByTestId('pg-status').getAttribute('data-phase'), 'stopped');
    const stoppedAt = (await page.getByTestId('pg-status').textContent()) ?? '';
    const step = Number(/Step (\d+)/.exec(stoppedAt)?.[1]);
    assert.ok(step > 0 && step < 5000, stoppedAt);
    assert.equal(await page.getByTestId('pg-verdict').count(), 0, 'a stopped run gets no verdict');
    await screenshot(page, 'playground-stopped');
    // The setup is in the address, so a reload (or a shared link) brings it back.
    assert.match(page.url(), /dataset=spirals/);
    await page.reload();
    assert.equal(await page.locator('#pg-dataset').inputValue(), 'spirals');
    assert.equal(await page.locator('#pg-steps').inputValue(), '5000');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('sequence race: three curves per chart, the LSTM and the GRU learn the first token over 20 … 40 tokens, the RNN not', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/playground`);
    await page.getByRole('heading', { name: 'RNN vs LSTM vs GRU' }).waitFor();
    await page.fill('#seq-length', '40');
    assert.equal(await page.getByTestId('seq-length-value').textContent(), '40 tokens');
    await page.fill('#seq-steps', '150');
    await page.fill('#seq-seed', '1');
    await page.getByRole('button', { name: 'Race', exact: true }).click();
    // Three models train here: on a loaded machine that takes longer than one action's default wait.
    await page.getByTestId('seq-verdict').waitFor({ timeout: 120_000 });
    const acc = async (cell: string) => Number.parseFloat((await page.getByTestId(`seq-acc-${cell}`).textContent()) ?? 'NaN');
    assert.ok((await acc('lstm')) >= 95, `LSTM ${await acc('lstm')}`);
    assert.ok((await acc('gru')) >= 95, `GRU ${await acc('gru')}`);
    assert.ok((await acc('rnn')) < 75, `RNN ${await acc('rnn')}`);
    assert.match((await page.getByTestId('seq-verdict').textContent()) ?? '', /^LSTM and GRU learned it, RNN did not/);
    assert.match((await page.getByTestId('seq-status').textContent()) ?? '', /After 150 of 150 steps/);
    const charts = page.locator('.sequence-race .curve-chart');
    assert.equal(await charts.count(), 2);
    for (let i = 0; i < 2; i++) {
      const chart = charts.nth(i);
      assert.ok(Number(await chart.getAttribute('data-points')) >= 10, 'the curves have points'); // 150 steps, a report every 5
      assert.deepEqual(await chart.locator('.u-legend .u-series .u-label').allTextContents(), ['step', 'RNN', 'LSTM', 'GRU']);
      assert.equal(await chart.locator('canvas').count(), 1);
    }
    await screenshot(page, 'playground-sequence-race');
    // The race's setup is in the address too (under seq_…), beside the 2-D playground's.
    await page.selectOption('#pg-dataset', 'moons');
    await page.waitForURL(/dataset=moons/);
    assert.match(page.url(), /seq_steps=150/);
    await page.reload();
    assert.equal(await page.locator('#seq-steps').inputValue(), '150');
    assert.equal(await page.locator('#pg-dataset').inputValue(), 'moons');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('at phone width the controls and the boundary fit the screen', async () => {
    const { page, problems } = await newPage(browser, { width: 390, height: 844 });
    await page.goto(`${base}/ui/playground`);
    await page.selectOption('#pg-dataset', 'circles');
    await page.fill('#pg-steps', '50');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('pg-verdict').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
    const box = await page.getByTestId('boundary').boundingBox();
    assert.ok(box && box.width > 200 && box.x + box.width <= 390, JSON.stringify(box));
    await screenshot(page, 'playground-phone');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
