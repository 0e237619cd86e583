// `geul serve` start-up failures: a taken port and a bad TLS pair exit non-zero with one catalogued line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('a port in use → exit 3 and one ADDRESS_IN_USE line; a non-PEM certificate → exit 2 and one TLS_INVALID line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-serve-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = String((taken.address() as AddressInfo).port);
  try {
    const inUse = await runCli(['serve', '--port', port, '--workers', '1', '--data-dir', dir, '--log-level', 'silent']);
    assert.equal(inUse.code, 3, inUse.stderr);
    assert.match(inUse.stderr, new RegExp(`^geul: Cannot listen on 127\\.0\\.0\\.1:${port}: it is already in use .*\\[ADDRESS_IN_USE\\]\\n$`));
  } finally {
    taken.close();
  }
  writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
  writeFileSync(join(dir, 'key.pem'), 'not a key');
  const tls = await runCli(['serve', '--port', '0', '--data-dir', dir, '--log-level', 'silent', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  assert.equal(tls.code, 2, tls.stderr);
  assert.match(tls.stderr, /^geul: Invalid TLS certificate or key: .*\[TLS_INVALID\]\n$/);
});
