// Server test helpers: a quiet loopback config with small limits, JSON requests through inject(), a real `geul serve` process.
import { spawn, type ChildProcess } from 'node:child_process';
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

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  /** Everything the server wrote to stderr so far (for assertion messages). */
  stderr: () => string;
}

/** Starts a real `geul serve` process (`argv` after `node`) and resolves with its URL once it says "serving on". */
export async function spawnServe(argv: string[], env: NodeJS.ProcessEnv): Promise<SpawnedServer> {
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving on (http:\/\/[^\s]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}
