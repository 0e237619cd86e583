// The word-vector page in Chromium against a real server with a small hand-made set (English and Korean words):
// neighbours, analogy, odd one out, and the map (PCA and UMAP) with click-to-isolate; and the empty state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { Rng } from '../../src/core/random.js';
import { writeVectors } from '../../src/words/formats.js';
import { WordVectors } from '../../src/words/vectors.js';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { serverConfig } from '../helpers/server.js';

/**
 * man : king = woman : queen by construction, fruit far away, plus filler words in dimensions of their own (so they
 * are no one's neighbour) that give UMAP more points to place.
 */
function vectorSet(): WordVectors {
  const rows: Record<string, number[]> = {
    man: [1, 0, 0, 0, 0], woman: [1, 1, 0, 0, 0], king: [1, 0, 1, 0, 0], queen: [1, 1, 1, 0, 0],
    apple: [0, 0, 0, 1, 0], banana: [0, 0.1, 0, 1, 0], 사과: [0, 0, 0, 1, 0.1], 바나나: [0, 0.1, 0, 1, 0.1],
  };
  const rng = new Rng(3);
  const dim = 8;
  for (const w of Object.keys(rows)) rows[w] = [...rows[w]!, 0, 0, 0];
  for (let i = 0; i < 24; i++) rows[`word${i}`] = [0, 0, 0, 0, 0, ...rng.normalArray(3, 1)];
  const words = Object.keys(rows);
  return new WordVectors(words, dim, Float32Array.from(words.flatMap((w) => rows[w]!)));
}

describe('word-vector page in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'geul-ui-words-'));

  before(async () => {
    await writeVectors(join(dir, 'demo.bin'), vectorSet(), 'bin');
    ({ app, url: base } = await listeningServer(serverConfig({ vectors: { demo: { path: join(dir, 'demo.bin') } } })));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('neighbours, analogy and the odd one out answer as gensim would', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/words`);
    await page.fill('#neighbours-word', 'king');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('.word-tool .bars th').first().waitFor();
    assert.equal(await page.locator('.word-tool .bars th').first().textContent(), 'queen');

    await page.fill('#analogy-a', 'man');
    await page.fill('#analogy-b', 'king');
    await page.fill('#analogy-c', 'woman');
    await page.getByRole('button', { name: 'Solve' }).click();
    await page.locator('.word-tool:nth-child(2) .bars th').first().waitFor();
    assert.equal(await page.locator('.word-tool:nth-child(2) .bars th').first().textContent(), 'queen');

    await page.fill('#odd-words', '사과, 바나나, king');
    await page.getByRole('button', { name: 'Pick' }).click();
    assert.equal(await page.getByTestId('odd').textContent(), 'king');

    await page.fill('#neighbours-word', 'nosuchword');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText('is not in the vocabulary').waitFor();
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
    await screenshot(page, 'words-tools');
    await page.context().close();
  });

  test('the map draws the words and their neighbours (PCA, then UMAP); clicking a word isolates its neighbourhood', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/words`);
    await page.fill('#map-words', 'king apple nosuchword');
    await page.fill('#map-neighbours', '3');
    await page.getByRole('button', { name: 'Draw' }).click();
    const map = page.locator('.word-map [role=img]');
    await map.waitFor();
    const label = (await map.getAttribute('aria-label')) ?? '';
    assert.match(label, /^Map of 8 words: /, label);
    for (const w of ['king', 'queen', 'apple', 'banana']) assert.ok(label.includes(w), `${w} in ${label}`);
    assert.match(await page.locator('form.wide .meta').first().textContent() ?? '', /Not in this set: nosuchword/);
    assert.equal(await page.locator('.word-map canvas').count(), 1);
    await screenshot(page, 'words-map');

    await page.selectOption('#map-method', 'umap');
    await page.getByRole('button', { name: 'Draw' }).click();
    await page.getByRole('button', { name: 'Draw' }).waitFor();
    assert.match((await map.getAttribute('aria-label')) ?? '', /^Map of 8 words/);

    // Hover over the plot until a word is named, then click it: the map redraws around that word alone.
    await page.locator('.word-map .u-over').scrollIntoViewIfNeeded();
    const box = (await page.locator('.word-map .u-over').boundingBox())!;
    let hovered = '';
    for (let i = 1; i < 40 && !hovered; i++) {
      await page.mouse.move(box.x + (box.width * i) / 40, box.y + box.height / 2);
      hovered = (await page.getByTestId('hovered').textContent()) ?? '';
    }
    assert.ok(hovered, 'hovering names a word');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(`document.querySelector('#map-words').value !== 'king apple nosuchword'`);
    const isolated = await page.inputValue('#map-words');
    await page.locator('.word-map [role=img]').waitFor();
    assert.match((await page.locator('.word-map [role=img]').getAttribute('aria-label')) ?? '', new RegExp(`^Map of 4 words: .*${isolated}`));
    // (nosuchword's neighbour lookup is a 404, which the browser logs.)
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
    await page.context().close();
  });

  test('a server with no vector sets says how to load one', async () => {
    const bare = await listeningServer(serverConfig());
    const { page } = await newPage(browser);
    await page.goto(`${bare.url}/ui/words`);
    await page.getByText('No word vectors loaded').waitFor();
    assert.match(await page.locator('.notice').textContent() ?? '', /geul serve --vectors/);
    await screenshot(page, 'words-none-loaded');
    await page.context().close();
    await bare.app.close();
  });
});
