// The key-store contract on the SQLite backend: two opens of one file under a fresh data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../src/store/keys.js';
import { keyStoreContract } from './key-store-contract.js';

keyStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-keys-contract-'));
  const a = KeyStore.open(dir);
  const b = KeyStore.open(dir);
  return {
    a, b,
    cleanup: async () => {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
