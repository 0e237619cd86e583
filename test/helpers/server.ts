// Server test helpers: a quiet loopback config with small limits, and JSON requests through inject().
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';

export function serverConfig(server: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): GeulConfig {
  const dir = mkdtempSync(join(tmpdir(), 'geul-server-'));
  return loadConfig({
    offline: true, cacheDir: join(dir, 'cache'), dataDir: join(dir, 'data'), logLevel: 'silent', ...extra,
    server: { port: 0, workers: 1, ...server },
  }, { skipFile: true, env: {} });
}

export async function post(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: () => JSON.parse(res.body) as Record<string, unknown> & { error?: { code: string; message: string } } };
}
