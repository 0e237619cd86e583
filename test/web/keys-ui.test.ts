// The API keys page in Chromium against a real server with auth required: sign in with an admin key, create a key
// (the secret shown once and it works), usage against quota, revoke (then it no longer works); the no-access states.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { KeyStore } from '../../src/store/keys.js';
import { browserSkip, launchBrowser, listeningServer, newPage, screenshot } from '../helpers/browser.js';
import { serverConfig } from '../helpers/server.js';

const detect = (base: string, key: string) => fetch(`${base}/v1/detect`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ inputs: 'Where is the station?' }),
});

describe('API keys page in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const store = new KeyStore(':memory:');
  let root: string;
  let tasksOnly: string;

  before(async () => {
    root = (await store.create({ name: 'root', scopes: ['admin'] })).key;
    tasksOnly = (await store.create({ name: 'reader', scopes: ['tasks'] })).key;
    ({ app, url: base } = await listeningServer(serverConfig({ auth: 'required' }), { keys: store }));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    store.close();
  });

  const signIn = async (page: import('playwright-core').Page, key: string) => {
    await page.getByRole('button', { name: 'API key' }).click();
    await page.fill('#api-key', key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  test('an admin creates a key (secret shown once, it works), sees its usage, revokes it (it stops working)', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${base}/ui/keys`);
    await page.getByText('Sign in with an admin key').waitFor();
    await signIn(page, tasksOnly);
    await page.getByText('This key is not an admin key').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, root);
    await page.locator('tr[data-key="root"]').waitFor();
    assert.match(await page.locator('tr[data-key="root"] th').textContent() ?? '', /\(signed in\)/);
    assert.doesNotMatch(await page.locator('tr[data-key="reader"] th').textContent() ?? '', /signed in/);

    await page.fill('#key-name', 'ci');
    await page.check('input[name="scope"][value="tasks"]');
    await page.fill('#key-rate', '100/min');
    await page.fill('#key-quota', '1000chars/day');
    await page.getByRole('button', { name: 'Create' }).click();
    const secretBox = page.locator('#new-secret');
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    assert.match(secret, /^geul_[A-Za-z0-9]{12}_/);
    await page.getByText('shown only this once').waitFor();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.locator('.secret small').waitFor();

    const used = await detect(base, secret);
    assert.equal(used.status, 200, await used.text());
    // Reloading shows the list, never the secret again; the usage cell counts the request against the quota.
    await page.reload();
    const row = page.locator('tr[data-key="ci"]');
    await row.waitFor();
    assert.equal(await page.locator('#new-secret').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page after a reload');
    await row.getByText('/ 1,000 chars today').waitFor();
    assert.match(await row.textContent() ?? '', /21 \/ 1,000 chars today/);
    assert.match(await row.textContent() ?? '', /100\/min/);
    await screenshot(page, 'keys');

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await detect(base, secret)).status, 200, 'cancel keeps it');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await row.getByText(/^revoked/).waitFor();
    assert.equal((await detect(base, secret)).status, 401);
    assert.deepEqual(problems.filter((p) => !/40[13]/.test(p)), []);
    await page.context().close();
  });
});

describe('API keys page with auth off', { skip: browserSkip() }, () => {
  test('says in words that keys are not in use', async () => {
    const { app, url } = await listeningServer(serverConfig({ auth: 'off' }));
    const browser = await launchBrowser();
    try {
      const { page } = await newPage(browser, { width: 390, height: 800 });
      await page.goto(`${url}/ui/keys`);
      await page.getByText('API keys are off on this server').waitFor();
      assert.match(await page.locator('.notice').textContent() ?? '', /--auth required/);
      assert.equal(await page.locator('#key-name').count(), 0);
      await screenshot(page, 'keys-auth-off-phone');
      await page.context().close();
    } finally {
      await browser.close();
      await app.close();
    }
  });
});
