// The API key store: hashed at rest, shown once, verified in constant time, revocable; rates, quotas and daily usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore, keysDbPath, parseQuota, parseRate, parseScopes, utcDay } from '../../src/store/keys.js';
import { keySecret } from '../helpers/keys.js';

test('a created key verifies, is stored only as a hash, and stops working when revoked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-keys-'));
  const store = KeyStore.open(dir);
  const { key, info } = store.create({ name: 'ci', scopes: ['tasks'], rate: parseRate('60/min'), quota: parseQuota('1000chars/day') });
  assert.match(key, /^geul_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(store.verify(key)?.id, info.id);
  assert.deepEqual(store.verify(key)?.rate, { count: 60, periodMs: 60_000 });
  assert.equal(store.verify(`${key.slice(0, -1)}x`), undefined);
  assert.equal(store.verify('nonsense'), undefined);
  store.close();
  assert.ok(!readFileSync(keysDbPath(dir)).includes(Buffer.from(keySecret(key))), 'the secret must not be on disk');
  const again = KeyStore.open(dir);
  assert.equal(again.list().length, 1);
  assert.equal(again.revoke('ci'), 1);
  assert.equal(again.verify(key), undefined);
  assert.equal(again.count(), 0);
  again.close();
});

test('usage is charged per UTC day and refused beyond the limit', () => {
  const store = new KeyStore(':memory:');
  const { info } = store.create({ name: 'q', scopes: ['tasks'] });
  const day = utcDay(Date.UTC(2026, 0, 1, 23, 59));
  assert.equal(store.charge(info.id, day, 60, 100), true);
  assert.equal(store.charge(info.id, day, 50, 100), false);
  assert.equal(store.usage(info.id, day), 60);
  assert.equal(store.charge(info.id, utcDay(Date.UTC(2026, 0, 2)), 100, 100), true);
  store.close();
});

test('rates, quotas and scopes parse or fail with INVALID_INPUT', () => {
  assert.deepEqual(parseRate('10/s'), { count: 10, periodMs: 1000 });
  assert.deepEqual(parseQuota('50tokens/day'), { amount: 50, unit: 'tokens' });
  assert.deepEqual(parseScopes('tasks,admin'), ['tasks', 'admin']);
  for (const bad of [() => parseRate('fast'), () => parseQuota('10/day'), () => parseScopes('root')]) {
    assert.throws(bad, (err: Error & { code?: string }) => err.code === 'INVALID_INPUT');
  }
});
