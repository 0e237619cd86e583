// The web UI in a real browser (Debian Chromium via playwright-core) against a real server running the fixture models:
// each playground's main flow, streaming and stop, URL state, error states, a phone-width page and keyboard use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { writeGpt2Model } from '../../src/fixtures/gpt2.js';
import { KeyStore } from '../../src/store/keys.js';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';

const DEFAULTS = { embeddings: 'tiny-bert-embed', classify: 'tiny-bert-sentiment', 'fill-mask': 'tiny-bert-mlm', generate: 'tiny-gpt2', translate: 'tiny-m2m100' };

describe('web UI in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const closers: (() => Promise<unknown>)[] = [];

  before(async () => {
    const models = await fixturesDir();
    // A GPT-2 big enough that a 1000-token stream lasts seconds, so Stop can be pressed while it runs.
    const slow = mkdtempSync(join(tmpdir(), 'geul-ui-gpt2-'));
    closers.push(async () => rmSync(slow, { recursive: true, force: true }));
    await writeGpt2Model(slow, { shape: { hidden: 256, layers: 8, heads: 4, positions: 1024 } });
    ({ app, url: base } = await listeningServer(serverConfig({ modelsDir: models, maxNewTokens: 1000, defaults: { ...DEFAULTS, generate: slow } })));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    for (const close of closers) await close();
  });

  async function open(path: string, viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
    const opened = await newPage(browser, viewport);
    await opened.page.goto(`${base}${path}`);
    return opened;
  }

  test('home: one card per task of GET /v1/tasks, with no console errors or CSP violations', async () => {
    const { page, problems } = await open('/');
    const tasks = (await (await fetch(`${base}/v1/tasks`)).json()) as { data: { id: string }[] };
    await page.locator('.card').first().waitFor();
    assert.deepEqual(await page.locator('.cards').first().locator('.card h3').allTextContents(), tasks.data.map((t) => t.id));
    assert.match(await page.locator('h1').textContent() ?? '', /geul/);
    assert.equal(await page.locator('.notice').count(), 0, 'every default model loads: no warning');
    const cardsUnder = (heading: string) => page.locator(`h2:text-is("${heading}") + ul.cards h3`).allTextContents();
    assert.deepEqual(await cardsUnder('Word vectors'), ['Word vectors']);
    assert.deepEqual(await cardsUnder('Learn & train'), ['Neural-network basics', 'Train & fine-tune']);
    await screenshot(page, 'home');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('dark mode: a system dark colour scheme gives the page a dark background, with no console errors', async () => {
    const background = async (colorScheme: 'light' | 'dark') => {
      const { page, problems } = await newPage(browser, undefined, { colorScheme });
      await page.goto(`${base}/`);
      await page.locator('.card').first().waitFor();
      const colour = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      if (colorScheme === 'dark') await screenshot(page, 'home-dark');
      assert.deepEqual(problems, []);
      await page.context().close();
      return colour.match(/\d+/g)!.slice(0, 3).map(Number);
    };
    const light = await background('light');
    const dark = await background('dark');
    const brightness = (rgb: number[]) => rgb.reduce((a, b) => a + b, 0) / 3;
    assert.ok(brightness(dark) < 64, `dark background is rgb(${dark.join(', ')})`);
    assert.ok(brightness(light) > 192, `light background is rgb(${light.join(', ')})`);
  });

  test('classify: one text gives label bars; a list gives a sortable table, a CSV download, and the same commands', async () => {
    const { page, problems } = await open('/ui/tasks/classify');
    await page.fill('#field-inputs', 'a great film');
    await page.click('button[type=submit]');
    await page.locator('.bars tr').first().waitFor();
    assert.deepEqual((await page.locator('.bars th').allTextContents()).sort(), ['NEGATIVE', 'POSITIVE']);
    assert.equal(await page.getByTestId('cli').textContent(), "geul sentiment 'a great film'");

    await page.fill('#field-inputs', 'a great film\na dull film\n정말 재미있다');
    await page.click('button[type=submit]');
    await page.locator('table.results tbody tr').nth(2).waitFor();
    await page.getByRole('button', { name: 'Score' }).click();
    const scores = (await page.locator('table.results tbody td.num').allTextContents()).map(Number);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'sorted by score, highest first');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    assert.equal(csv[0], 'Text,Label,Score');
    assert.equal(csv.length, 4);
    assert.ok(csv.some((l) => l.startsWith('정말 재미있다,')), 'Korean text survives the CSV');
    assert.match(await page.getByTestId('curl').textContent() ?? '', /^curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/classify/);

    await screenshot(page, 'classify');
    // The form lives in the URL: a reload (or a shared link) brings it back.
    await page.reload();
    assert.equal(await page.inputValue('#field-inputs'), 'a great film\na dull film\n정말 재미있다');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('generate streams token by token, and Stop stops it', async () => {
    const { page, problems } = await open('/ui/tasks/generate?max_new_tokens=1000&do_sample=true&seed=3');
    await page.fill('#field-inputs', 'Once upon a time');
    await page.click('button[type=submit]');
    await page.getByRole('button', { name: 'Generating…' }).waitFor();
    // Sampled text has spaces, so the streamer sends words as they come (the whole run takes seconds on this model).
    await page.locator('[data-testid=stream]', { hasText: /^Once upon a time.+/s }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('Stopped').waitFor();
    const stopped = await page.getByTestId('stream').textContent();
    await page.waitForTimeout(1500);
    assert.equal(await page.getByTestId('stream').textContent(), stopped, 'nothing arrives after Stop');
    assert.ok(await page.getByRole('button', { name: 'Run' }).isEnabled());

    await page.fill('#field-max_new_tokens', '8');
    await page.click('button[type=submit]');
    await page.getByText('finished by length').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('cli').textContent(), "geul generate --max-new-tokens 8 --do-sample --seed 3 --stream 'Once upon a time'");
    await screenshot(page, 'generate');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('embeddings: n sentences give an n × n similarity heatmap with ones on the diagonal', async () => {
    const { page } = await open('/ui/tasks/embeddings');
    await page.fill('#field-inputs', 'a cat sat on the mat\na dog lay on the rug\n주식 시장이 떨어졌다');
    await page.click('button[type=submit]');
    await page.locator('.heatmap td.cell').first().waitFor();
    const cells = await page.locator('.heatmap td.cell').allTextContents();
    assert.equal(cells.length, 9);
    assert.deepEqual([cells[0], cells[4], cells[8]], ['1.00', '1.00', '1.00']);
    await screenshot(page, 'embeddings');
    await page.context().close();
  });

  test('translate: the chosen model\'s languages by name from the URL, typed by name, swap, and one translation per line', async () => {
    const { page, problems } = await newPage(browser);
    const asked: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/languages') asked.push(new URL(r.url()).search); });
    await page.goto(`${base}/ui/tasks/translate?from=en&to=ko&model=${DEFAULTS.translate}`);
    await page.locator('.language-name').first().waitFor();
    assert.deepEqual(await page.locator('.language-name').allTextContents(), ['English', 'Korean']);
    assert.deepEqual(asked, [`?model=${DEFAULTS.translate}`], 'the languages of the chosen model');
    // Search as you type: a language's name picks its code.
    await page.fill('#field-to', '');
    await page.locator('#field-to').pressSequentially('Korean');
    assert.equal(await page.inputValue('#field-to'), 'ko');
    await page.fill('#field-to', 'ko');
    await page.getByRole('button', { name: 'Swap source and target languages' }).click();
    assert.equal(await page.inputValue('#field-from'), 'ko');
    assert.equal(await page.inputValue('#field-to'), 'en');
    assert.match(page.url(), /from=ko/);
    await page.fill('#field-inputs', '역이 어디예요?\n감사합니다');
    // A model in the URL is an option set: the options are open already.
    assert.ok(await page.locator('#field-max_new_tokens').isVisible());
    await page.fill('#field-max_new_tokens', '6');
    await page.click('button[type=submit]');
    await page.locator('figure.translation').nth(1).waitFor();
    assert.deepEqual(await page.locator('figure.translation blockquote').allTextContents(), ['역이 어디예요?', '감사합니다']);
    await screenshot(page, 'translate');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('search: documents from a JSONL file by their "text" field, hits ranked best first with scores', async () => {
    const { page, problems } = await open('/ui/tasks/search');
    const docs = ['a cat sat on the mat', 'the stock market fell today', '김치찌개 끓이는 법'];
    const jsonl = docs.map((text, id) => JSON.stringify({ id, text })).join('\n');
    await page.locator('.field-lines input[type=file]').setInputFiles({ name: 'faq.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
    await page.waitForFunction(`document.querySelector('#field-documents').value !== ''`);
    assert.equal(await page.inputValue('#field-documents'), docs.join('\n'), 'the text fields, not the JSON lines');
    await page.fill('#field-inputs', 'the stock market fell today');
    await page.click('button[type=submit]');
    await page.locator('.hits li').nth(2).waitFor();
    const hits = await page.locator('.hits li').allTextContents();
    const scores = hits.map((h) => parseFloat(h));
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
    assert.ok(Math.abs(scores[0]! - 1) < 1e-3, `the query's own text scores 1 (got ${scores[0]})`);
    assert.match(hits[0]!, /the stock market fell today \(document 2\)/);
    await screenshot(page, 'search');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('fill-mask: ranked candidates and the filled sentences', async () => {
    const { page } = await open('/ui/tasks/fill-mask');
    await page.fill('#field-inputs', 'paris is the [MASK] of france');
    await page.click('button[type=submit]');
    await page.locator('.filled li').first().waitFor();
    const filled = await page.locator('.filled li').allTextContents();
    assert.equal(filled.length, 5, 'top_k defaults to 5');
    for (const sentence of filled) assert.ok(!sentence.includes('[MASK]') && sentence.startsWith('paris is the'), sentence);
    const scores = (await page.locator('.bars td.num').allTextContents()).map((s) => parseFloat(s));
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
    await screenshot(page, 'fill-mask');
    await page.context().close();
  });

  test('a 390 px wide phone: nothing scrolls sideways and a playground works', async () => {
    const { page } = await open('/ui/tasks/similarity', { width: 390, height: 844 });
    await page.fill('#field-inputs', 'a cat\na car');
    await page.fill('#field-inputs-b', 'a dog\na bus');
    await page.click('button[type=submit]');
    await page.locator('.bars tr').nth(1).waitFor();
    // (Strings run in the page: these tests are typed against Node, not the DOM.)
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 390, `page is ${width}px wide`);
    await screenshot(page, 'phone-similarity');
    await page.context().close();
  });

  test('keyboard only: tab to the input, type, and run with Enter', async () => {
    const { page } = await open('/ui/tasks/detect');
    await page.locator('#field-inputs').waitFor();
    const focusOn = async (id: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate<{ id: string; text: string }>('({ id: document.activeElement?.id ?? "", text: document.activeElement?.textContent ?? "" })');
        if (focused.id === id || focused.text === id) return;
      }
      assert.fail(`Tab never reached ${id}`);
    };
    await focusOn('field-inputs');
    await page.keyboard.type('Où est la gare ?');
    await focusOn('Run');
    await page.keyboard.press('Enter');
    await page.locator('.bars tr').first().waitFor();
    assert.equal(await page.locator('.bars th').first().textContent(), 'fr');
    await screenshot(page, 'keyboard-detect');
    await page.context().close();
  });

  test('a page whose code fails to load says so, with a reload link, instead of a blank main area', async () => {
    const { page } = await newPage(browser);
    await page.route(/\/assets\/playground-[^/]*\.js$/, (route) => route.fulfill({ status: 404, body: 'gone' }));
    await page.goto(`${base}/ui/playground`);
    const alert = page.locator('main [role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent() ?? '', /failed to load/);
    assert.ok(await alert.getByRole('link', { name: 'reload the page' }).isVisible());
    await screenshot(page, 'page-load-failed');
    // Another page still works: the boundary lets the next address render.
    await page.locator('nav a', { hasText: 'models' }).click();
    await page.locator('main h1', { hasText: /models/i }).waitFor();
    assert.equal(await page.locator('main [role=alert]').count(), 0);
    await page.context().close();
  });

  test('error states: sign-in with a key, a 429 and a busy 503 said in words, a model missing offline names the pull command', async () => {
    const keys = new KeyStore(':memory:');
    const key = keys.create({ name: 'browser', scopes: ['tasks'], quota: { amount: 20, unit: 'chars' } }).key;
    const models = await fixturesDir();
    const guarded = await listeningServer(serverConfig({ auth: 'required', modelsDir: models, defaults: { ...DEFAULTS, generate: 'someone/not-cached-gpt' } }), { keys });
    closers.push(() => guarded.app.close());
    const { page } = await newPage(browser);
    await page.goto(`${guarded.url}/`);
    await page.getByText('This server needs an API key').first().waitFor();
    await page.getByRole('button', { name: 'API key' }).click();
    await page.fill('#api-key', key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.card').first().waitFor();
    assert.ok(!page.url().includes(key), 'the key never goes into the URL');
    const notice = await page.locator('.notice').textContent();
    assert.match(notice ?? '', /generate/);
    assert.match(notice ?? '', /geul models pull someone\/not-cached-gpt/);

    await page.goto(`${guarded.url}/ui/tasks/classify`);
    await page.fill('#field-inputs', 'this review is far longer than twenty characters');
    await page.click('button[type=submit]');
    const alert = page.locator('.result [role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent() ?? '', /quota.*HTTP 429.*wait/is);
    assert.match(await page.getByTestId('curl').count().then(String), /^0$/, 'no command for a failed request');
    await screenshot(page, 'error-429');

    // A busy server (the catalog's OVERLOADED, as a full queue answers it) is advice to retry, not "the server failed".
    await page.route(/\/v1\/classify$/, (route) => route.fulfill({
      status: 503,
      headers: { 'retry-after': '7' },
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'Server busy; retry in 7 s' } }),
    }));
    await page.fill('#field-inputs', 'short');
    await page.click('button[type=submit]');
    await page.locator('.result [role=alert]', { hasText: 'HTTP 503' }).waitFor();
    const busy = await alert.textContent() ?? '';
    assert.match(busy, /busy.*retry in 7 s/is);
    assert.doesNotMatch(busy, /server failed/);
    await screenshot(page, 'error-503-busy');
    await page.context().close();
  });
});
