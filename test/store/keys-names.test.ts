// Key names are unique among active keys, revoke takes an id or an unambiguous name, and reading commands never
// create a key store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore, keysDbPath } from '../../src/store/keys.js';

const invalid = (pattern: RegExp) => (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && pattern.test(err.message);

test('a second active key with the same name is refused; after revoking, the name is free again', () => {
  const store = new KeyStore(':memory:');
  const first = store.create({ name: 'ci', scopes: ['tasks'] }).info;
  assert.throws(() => store.create({ name: 'ci', scopes: ['admin'] }), invalid(new RegExp(`already named "ci" \\(${first.id}\\)`)));
  assert.equal(store.list().length, 1);
  assert.equal(store.revoke('ci'), 1);
  store.create({ name: 'ci', scopes: ['tasks'] });
  assert.equal(store.count(), 1);
  store.close();
});

test('revoke by id revokes only that key; a name shared by old duplicates is refused, not revoked twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-keys-'));
  const store = KeyStore.open(dir);
  const a = store.create({ name: 'dup', scopes: ['tasks'] }).info;
  const b = store.create({ name: 'other', scopes: ['tasks'] }).info;
  store.close();
  // A store written before names were unique may hold two active keys of one name.
  const raw = new Database(keysDbPath(dir));
  raw.prepare('UPDATE api_keys SET name = ? WHERE id = ?').run('dup', b.id);
  raw.close();
  const again = KeyStore.open(dir);
  assert.throws(() => again.revoke('dup'), invalid(/2 active keys are named "dup".*revoke one by its id/));
  assert.equal(again.count(), 2, 'nothing was revoked');
  assert.equal(again.revoke(a.id), 1);
  assert.equal(again.get(b.id)?.revokedAt, undefined);
  assert.equal(again.revoke('dup'), 1, 'now unambiguous');
  assert.equal(again.revoke('dup'), 0);
  again.close();
});

test('openExisting on a missing data dir creates nothing', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'geul-keys-')), 'missing');
  assert.equal(KeyStore.openExisting(dir), undefined);
  assert.equal(existsSync(dir), false);
  KeyStore.open(dir).close();
  const store = KeyStore.openExisting(dir);
  assert.ok(store);
  assert.deepEqual(store.list(), []);
  store.close();
});
