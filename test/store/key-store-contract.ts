// One contract every API-key store passes (SQLite and Redis), as hono runs one router suite against every router.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { parseQuota, parseRate, utcDay, type ApiKeyStore } from '../../src/store/key-store.js';

/** Two handles on one backend (two connections, or two opens of one file), and how to clean up after both. */
export interface StorePair { a: ApiKeyStore; b: ApiKeyStore; cleanup(): Promise<void> }

const invalid = (pattern: RegExp) => (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && pattern.test(err.message);

export function keyStoreContract(backend: string, open: (t: TestContext) => Promise<StorePair | undefined>): void {
  const withStores = (name: string, fn: (pair: StorePair) => Promise<void>) => test(`${backend}: ${name}`, async (t) => {
    const pair = await open(t);
    if (!pair) return;
    try {
      await fn(pair);
    } finally {
      await pair.cleanup();
    }
  });

  withStores('a created key verifies with its fields, a wrong secret does not, and revoking stops it', async ({ a }) => {
    const { key, info } = await a.create({ name: 'ci', scopes: ['tasks', 'jobs'], rate: parseRate('60/min'), quota: parseQuota('1000chars/day') });
    assert.match(key, /^geul_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const verified = await a.verify(key);
    assert.equal(verified?.id, info.id);
    assert.deepEqual(verified?.scopes, ['tasks', 'jobs']);
    assert.deepEqual(verified?.rate, { count: 60, periodMs: 60_000 });
    assert.deepEqual(verified?.quota, { amount: 1000, unit: 'chars' });
    assert.equal(await a.verify(`${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`), undefined);
    assert.equal(await a.verify('nonsense'), undefined);
    assert.equal(await a.get('nosuchkey123'), undefined);
    assert.equal(await a.count(), 1);
    assert.equal(await a.revoke(info.id), 1);
    assert.equal(await a.revoke(info.id), 0, 'already revoked');
    assert.equal(await a.verify(key), undefined);
    assert.equal(await a.count(), 0);
    assert.ok((await a.get(info.id))?.revokedAt, 'the record stays, marked revoked');
  });

  withStores('names are unique among active keys; revoke takes a name; list is oldest first', async ({ a }) => {
    const first = (await a.create({ name: 'alice', scopes: ['tasks'], now: Date.UTC(2026, 0, 1) })).info;
    await assert.rejects(async () => a.create({ name: 'alice', scopes: ['admin'] }), invalid(new RegExp(`already named "alice" \\(${first.id}\\)`)));
    await assert.rejects(async () => a.create({ name: 'no/slash', scopes: ['tasks'] }), invalid(/key name/));
    const bob = (await a.create({ name: 'bob', scopes: ['admin'], now: Date.UTC(2026, 0, 2) })).info;
    assert.deepEqual((await a.list()).map((k) => k.name), ['alice', 'bob']);
    assert.equal(await a.revoke('alice'), 1);
    assert.equal(await a.revoke('alice'), 0, 'no active key has that name now');
    const again = (await a.create({ name: 'alice', scopes: ['tasks'], now: Date.UTC(2026, 0, 3) })).info;
    assert.notEqual(again.id, first.id);
    assert.deepEqual((await a.list()).map((k) => [k.name, k.revokedAt === undefined]), [['alice', false], ['bob', true], ['alice', true]]);
    assert.equal(await a.count(), 2);
    assert.equal((await a.get(bob.id))?.createdAt, new Date(Date.UTC(2026, 0, 2)).toISOString());
  });

  withStores('usage is charged per UTC day, refused beyond the limit, refunded never below zero', async ({ a }) => {
    const { info } = await a.create({ name: 'q', scopes: ['tasks'] });
    const day = utcDay(Date.UTC(2026, 0, 1, 23, 59));
    assert.equal(await a.charge(info.id, day, 60, 100), true);
    assert.equal(await a.charge(info.id, day, 50, 100), false);
    assert.equal(await a.usage(info.id, day), 60, 'a refused charge adds nothing');
    assert.equal(await a.charge(info.id, utcDay(Date.UTC(2026, 0, 2)), 100, 100), true, 'a new day starts at zero');
    await a.refund(info.id, day, 25);
    assert.equal(await a.usage(info.id, day), 35);
    await a.refund(info.id, day, 1000);
    assert.equal(await a.usage(info.id, day), 0);
    assert.equal(await a.usage(info.id, '2025-12-31'), 0);
  });

  withStores('concurrent charges from two handles never pass the limit together', async ({ a, b }) => {
    const { info } = await a.create({ name: 'race', scopes: ['tasks'] });
    const day = '2026-02-01';
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).charge(info.id, day, 10, 95)));
    assert.equal(results.filter(Boolean).length, 9);
    assert.equal(await a.usage(info.id, day), 90);
    assert.equal(await b.usage(info.id, day), 90);
  });

  withStores('a rate bucket holds `count` requests, refuses with a retry time, and refills with time', async ({ a }) => {
    const { info } = await a.create({ name: 'r', scopes: ['tasks'] });
    const rate = parseRate('3/min');
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 3; i++) assert.deepEqual(await a.takeToken(info.id, rate, t0), { ok: true });
    const refused = await a.takeToken(info.id, rate, t0);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.retryAfterS, 20, 'one token comes back every 20 s');
    assert.equal((await a.takeToken(info.id, rate, t0 + 19_000)).ok, false);
    assert.equal((await a.takeToken(info.id, rate, t0 + 20_000)).ok, true);
    assert.equal((await a.takeToken(info.id, rate, t0 + 20_000)).ok, false);
    assert.equal((await a.takeToken(info.id, rate, t0 + 10 * 60_000)).ok, true, 'refilled');
  });

  withStores('two handles agree: created on one verifies on the other, revoked on one is refused on both', async ({ a, b }) => {
    const { key, info } = await a.create({ name: 'shared', scopes: ['admin'] });
    assert.equal((await b.verify(key))?.id, info.id);
    await b.touch(info.id, Date.UTC(2026, 0, 5));
    assert.equal((await a.get(info.id))?.lastUsedAt, new Date(Date.UTC(2026, 0, 5)).toISOString());
    await assert.rejects(async () => b.create({ name: 'shared', scopes: ['tasks'] }), invalid(/already named "shared"/));
    assert.equal(await b.revoke('shared'), 1);
    assert.equal(await a.verify(key), undefined);
    assert.equal(await a.count(), 0);
  });
}
