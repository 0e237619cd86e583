// `geul serve` and cached hub models: a model pulled into the cache is offered by a server started on that cache, and
// not by one started with --no-cached-hub-models (real processes, a fake hub on 127.0.0.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub } from '../helpers/fake-hub.js';
import { spawnServe, type SpawnedServer } from '../helpers/server.js';

const TINY = {
  'config.json': JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }),
  'tokenizer.json': '{}',
  'onnx/model_quantized.onnx': new Uint8Array(2000).fill(2),
};

test('--no-cached-hub-models: a pulled model is offered only by the server started without it', { timeout: 120_000 }, async () => {
  const hub = await startFakeHub({ repos: { 'acme/tiny': { main: TINY } } });
  const dir = mkdtempSync(join(tmpdir(), 'geul-serve-hub-'));
  const env = { ...process.env, GEUL_HUB_URL: hub.url, GEUL_CACHE_DIR: join(dir, 'cache'), GEUL_OFFLINE: '0' };
  const serve = (flags: string[]) => spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--auth', 'off',
    '--data-dir', join(dir, `data${flags.length}`), '--log-level', 'warn', ...flags], env);
  const offered = async (server: SpawnedServer) => {
    const res = await fetch(`${server.url}/v1/models`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
  };
  let server: SpawnedServer | undefined;
  try {
    server = await serve(['--no-cached-hub-models']);
    const pull = await fetch(`${server.url}/v1/models/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'acme/tiny' }) });
    assert.match(await pull.text(), /"type":"done"/);
    assert.ok(!(await offered(server)).includes('acme/tiny'), 'pulled, but this server serves only its configured models');
    const stopped = new Promise((resolve) => server!.child.once('exit', resolve));
    server.child.kill();
    await stopped;
    server = await serve([]);
    assert.ok((await offered(server)).includes('acme/tiny'), 'the same cache, the default: pulled models are offered');
  } finally {
    server?.child.kill();
    await hub.close();
  }
});
