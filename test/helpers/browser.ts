// Browser tests: Debian Chromium driven by playwright-core against a real geul server on 127.0.0.1, with screenshots.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GeulConfig } from '../../src/core/config.js';
import { buildServer, type ServerDeps } from '../../src/server/app.js';
import { WEB_DIR } from '../../src/server/routes-ui.js';

export const CHROMIUM = process.env.GEUL_TEST_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Git-ignored: each test saves its page here for people to look at; nothing asserts on pixels. */
export const SCREENSHOTS = resolve('test-output', 'ui');

/**
 * Why the browser tests cannot run here, or false when they can. Under CI=true nothing is skipped: .ci/run installs
 * Chromium and builds the UI, so a missing one is a failure there, not a silent skip.
 */
export function browserSkip(): string | false {
  if (process.env.CI === 'true') return false;
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set GEUL_TEST_CHROMIUM)`;
  if (!existsSync(join(WEB_DIR, 'index.html'))) return `the web UI is not built (${WEB_DIR}): run npm run build`;
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 30_000 });
}

/** A real server on a loopback port (the browser needs a socket; inject() cannot serve it). */
export async function listeningServer(config: GeulConfig, deps: ServerDeps = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer(config, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { app, url: `http://127.0.0.1:${address.port}` };
}

/** How the page's browser presents itself: the colour scheme a user chose in their system settings. */
export interface PageOptions {
  colorScheme?: 'light' | 'dark';
}

/** A page that records console errors and Content-Security-Policy violations, so a test can assert there were none. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 800 }, options: PageOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  page.setDefaultTimeout(15_000);
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
