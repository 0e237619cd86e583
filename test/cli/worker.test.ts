// `geul worker` and `geul serve --redis` start-up failures: no Redis URL (exit 2, INVALID_CONFIG) and an unreachable
// Redis (exit 3, one REDIS_UNREACHABLE line naming the URL, never its password); no Redis server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('geul worker without --redis, and worker/serve with Redis unreachable, exit with one catalogued line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-worker-'));
  const env = { GEUL_REDIS_URL: '' };
  const missing = await runCli(['worker', '--data-dir', dir], { env });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^geul: .*pass --redis URL.*\[INVALID_CONFIG\]\n$/);
  // A port nothing listens on: bound, then closed, so the connection is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const url = `redis://user:secret@127.0.0.1:${port}`;
  for (const args of [['worker', '--redis', url, '--data-dir', dir], ['serve', '--port', '0', '--workers', '1', '--redis', url, '--data-dir', dir, '--log-level', 'silent']]) {
    const down = await runCli(args, { env });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, new RegExp(`^geul: Cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*\\[REDIS_UNREACHABLE\\]\\n$`));
    assert.ok(!down.stderr.includes('secret'));
  }
});
