// The Models page in Chromium against a real server and a fake hub on 127.0.0.1: pull with progress bars reaching
// the end, the model listed with size and precision, delete with confirmation; a pull error; the offline empty state; without
// --allow-hub-models a pulled model is offered at once, and with cached hub models off the page says why it is not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';

const TINY = {
  'config.json': JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }),
  'tokenizer.json': '{}',
  'onnx/model.onnx': new Uint8Array(400_000).fill(1),
  'onnx/model_quantized.onnx': new Uint8Array(900_000).fill(2),
};

describe('models page in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let hub: FakeHub;
  let app: FastifyInstance;
  let base: string;
  let cacheDir: string;

  before(async () => {
    hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY } } });
    const config = serverConfig({ modelsDir: await fixturesDir(), allowHubModels: true }, { offline: false, hubUrl: hub.url });
    cacheDir = config.cacheDir;
    ({ app, url: base } = await listeningServer(config));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await hub?.close();
  });

  test('pull from the hub with progress to the end, the model listed, then deleted after a confirmation', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/models`);
    // The fixture folders are on disk and kept: no delete button for them.
    const folder = page.locator('tr[data-model="tiny-bert-embed"]');
    await folder.waitFor();
    assert.match(await folder.textContent() ?? '', /folder.*kB/);
    assert.equal(await folder.getByRole('button', { name: 'Delete' }).count(), 0);

    await page.fill('#pull-id', 'acme/tiny');
    await page.selectOption('#pull-dtype', 'q8');
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    await page.getByText('Pulled acme/tiny').waitFor();
    const bars = page.locator('.downloads progress');
    const weights = page.locator('progress[id="dl-onnx/model_quantized.onnx"]');
    assert.equal(await weights.getAttribute('max'), '900000');
    assert.equal(await weights.evaluate((p) => (p as unknown as { value: number }).value), 900_000);
    for (const bar of await bars.all()) assert.equal(await bar.evaluate((p) => { const b = p as unknown as { value: number; max: number }; return b.value === b.max; }), true);
    assert.equal(await page.locator('progress[id="dl-onnx/model.onnx"]').count(), 0, 'only the chosen precision');

    const row = page.locator('tr[data-model="acme/tiny"]');
    await row.waitFor();
    const text = await row.textContent() ?? '';
    assert.match(text, /Hub cache/);
    assert.match(text, /900\.\d kB|\d\.\d+ MB|90\d\.\d kB/);
    assert.match(text, /q8/);
    await screenshot(page, 'models');

    // The confirmation puts the focus on Cancel; Escape backs out and keeps the model.
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction('document.activeElement?.textContent === "Cancel"');
    await page.keyboard.press('Escape');
    await row.getByRole('button', { name: 'Yes, delete' }).waitFor({ state: 'detached' });
    assert.ok(existsSync(join(cacheDir, 'acme', 'tiny')), 'cancel keeps it');
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByText('from the cache?').waitFor();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!existsSync(join(cacheDir, 'acme', 'tiny')));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('Stop closes the stream: the page says so and the weights never land', async () => {
    // The weights answer late, so the pull is still running when Stop is pressed.
    hub.fault((r) => r.kind === 'resolve' && r.file === 'onnx/model_quantized.onnx', { delayMs: 3000 }, { times: 1 });
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/models`);
    await page.fill('#pull-id', 'acme/tiny');
    await page.selectOption('#pull-dtype', 'q8');
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    await page.locator('progress[id="dl-config.json"]').waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('Stopped.').waitFor();
    assert.equal(await page.getByText('Pulled acme/tiny').count(), 0);
    assert.ok(!existsSync(join(cacheDir, 'acme', 'tiny', 'main', 'onnx', 'model_quantized.onnx')));
    assert.deepEqual(problems, []);
    await screenshot(page, 'models-pull-stopped');
    await page.context().close();
  });

  test('a model the hub does not have is an error in words', async () => {
    const { page } = await newPage(browser);
    await page.goto(`${base}/ui/models`);
    await page.fill('#pull-id', 'acme/nothing');
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    const alert = page.locator('.pull [role="alert"]');
    await alert.waitFor();
    assert.match(await alert.textContent() ?? '', /acme\/nothing.*was not found.*MODEL_NOT_FOUND/);
    await screenshot(page, 'models-pull-not-found');
    await page.context().close();
  });
});

describe('models page offline, nothing cached', { skip: browserSkip() }, () => {
  test('says nothing is on disk, lists what is offered but missing, and a pull is refused in words', async () => {
    const hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY } } });
    const { app, url } = await listeningServer(serverConfig({}, { offline: true, hubUrl: hub.url }));
    const browser = await launchBrowser();
    try {
      const { page, problems } = await newPage(browser, { width: 390, height: 800 });
      await page.goto(`${url}/ui/models`);
      await page.getByText('No model is on disk yet').waitFor();
      await page.getByText('Offered but not on disk').waitFor();
      // Each missing model's button fills in the pull form and moves the focus there.
      await page.getByRole('button', { name: 'Pull Xenova/gpt2' }).click();
      assert.equal(await page.inputValue('#pull-id'), 'Xenova/gpt2');
      await page.waitForFunction('document.activeElement?.id === "pull-id"');
      await page.fill('#pull-id', 'acme/tiny');
      await page.getByRole('button', { name: 'Pull', exact: true }).click();
      const alert = page.locator('.pull [role="alert"]');
      await alert.waitFor();
      assert.match(await alert.textContent() ?? '', /Offline mode.*OFFLINE_NOT_CACHED/);
      await screenshot(page, 'models-offline-phone');
      assert.equal(hub.count(), 0);
      assert.deepEqual(problems.filter((p) => !p.includes('503')), []);
      await page.context().close();
    } finally {
      await browser.close();
      await app.close();
      await hub.close();
    }
  });
});

describe('models page without --allow-hub-models', { skip: browserSkip() }, () => {
  test('a pulled model is listed at once; with cached hub models off the page says why it is not offered', async () => {
    const hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY } } });
    const served = serverConfig({}, { offline: false, hubUrl: hub.url });
    const { app, url } = await listeningServer(served);
    const strict = await listeningServer(serverConfig({ cachedHubModels: false }, { offline: false, hubUrl: hub.url }));
    const browser = await launchBrowser();
    try {
      const { page, problems } = await newPage(browser);
      const pull = async (base: string) => {
        await page.goto(`${base}/ui/models`);
        await page.fill('#pull-id', 'acme/tiny');
        await page.selectOption('#pull-dtype', 'q8');
        await page.getByRole('button', { name: 'Pull', exact: true }).click();
        await page.getByText('Pulled acme/tiny').waitFor();
      };
      await pull(url);
      await page.locator('tr[data-model="acme/tiny"]').waitFor();
      assert.equal(await page.locator('.pull .notice').count(), 0, 'offered: no notice');

      await pull(strict.url);
      await page.locator('.pull .notice').waitFor();
      assert.match(await page.locator('.pull .notice').textContent() ?? '', /--no-cached-hub-models/);
      assert.equal(await page.locator('tr[data-model="acme/tiny"]').count(), 0);
      await screenshot(page, 'models-not-offered');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await app.close();
      await strict.app.close();
      await hub.close();
    }
  });
});
