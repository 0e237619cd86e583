// How the server serves the web UI: the page at / and every /ui/… address with a strict CSP and no caching, hashed
// assets cached for a year, API paths untouched, a clear error when the UI is not built, and --no-ui.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { installErrorHandling } from '../../src/server/errors.js';
import { registerUiRoutes } from '../../src/server/routes-ui.js';
import { serverConfig } from '../helpers/server.js';

function builtUi(): string {
  const dir = mkdtempSync(join(tmpdir(), 'geul-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>geul</title><script type="module" src="/ui/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("ui")');
  return dir;
}

async function uiApp(dir: string) {
  const app = Fastify();
  installErrorHandling(app as never);
  await registerUiRoutes(app as never, dir);
  return app;
}

test('the page answers / and every /ui/ address (client-side routes), with a strict CSP and revalidation', async () => {
  const app = await uiApp(builtUi());
  for (const url of ['/', '/ui/', '/ui/tasks/classify', '/ui/tasks/translate?from=en&to=ko']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline or eval scripts');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /img-src 'self' data:(;|$)/, 'no blob: images: nothing in the UI draws one');
    assert.match(res.body, /<title>geul<\/title>/);
  }
  assert.equal((await app.inject({ url: '/ui' })).headers.location, '/ui/');
  await app.close();
});

test('hashed assets are cached for a year; a missing asset is a 404, not the page', async () => {
  const app = await uiApp(builtUi());
  const asset = await app.inject({ url: '/ui/assets/index-abc123.js' });
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(asset.headers['content-type'] as string, /javascript/);
  const missing = await app.inject({ url: '/ui/assets/index-zzz.js' });
  assert.equal(missing.statusCode, 404);
  assert.doesNotMatch(missing.body, /<title>/);
  await app.close();
});

test('an unbuilt UI answers UI_NOT_BUILT saying what to run', async () => {
  const app = await uiApp(mkdtempSync(join(tmpdir(), 'geul-web-empty-')));
  const res = await app.inject({ url: '/' });
  assert.equal(res.statusCode, 503);
  const body = res.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'UI_NOT_BUILT');
  assert.match(body.error.message, /npm run build/);
  await app.close();
});

test('the full server keeps API paths as they were, and --no-ui (server.ui false) serves the API only', async () => {
  const withUi = await buildServer(serverConfig());
  assert.equal((await withUi.inject({ url: '/v1/nope' })).json().error.code, 'NOT_FOUND');
  assert.equal((await withUi.inject({ url: '/health' })).statusCode, 200);
  await withUi.close();
  const apiOnly = await buildServer(serverConfig({ ui: false }));
  const res = await apiOnly.inject({ url: '/' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'NOT_FOUND');
  await apiOnly.close();
});
