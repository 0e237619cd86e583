// Micro-batching: concurrent requests with the same key share one call, results go back in order, the wait bound holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../../src/runtime/batcher.js';

const options = { maxItems: 8, maxCost: 1000, maxWaitMs: 5, maxInFlight: 1, maxWaiting: 100 };

test('requests arriving while a call runs are merged into the next call, in order', async () => {
  const calls: string[][] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const batcher = new MicroBatcher<string, string>(options, async (_ctx, items) => {
    calls.push(items);
    if (calls.length === 1) await gate;
    return items.map((s) => s.toUpperCase());
  });
  const first = batcher.submit('k', {}, ['a'], 1);
  const rest = [batcher.submit('k', {}, ['b', 'c'], 2), batcher.submit('k', {}, ['d'], 1)];
  release();
  assert.deepEqual(await first, ['A']);
  assert.deepEqual(await Promise.all(rest), [['B', 'C'], ['D']]);
  assert.deepEqual(calls, [['a'], ['b', 'c', 'd']]);
});

test('different keys never share a call; a failing call rejects only its requests', async () => {
  const batcher = new MicroBatcher<string, string>({ ...options, maxInFlight: 2 }, async (ctx, items) => {
    if ((ctx as { fail?: boolean }).fail) throw new Error('boom');
    return items;
  });
  const [ok, bad] = await Promise.allSettled([batcher.submit('a', {}, ['x'], 1), batcher.submit('b', { fail: true }, ['y'], 1)]);
  assert.deepEqual(ok, { status: 'fulfilled', value: ['x'] });
  assert.equal(bad.status, 'rejected');
});

test('beyond maxWaiting, submit fails at once with OVERLOADED', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const batcher = new MicroBatcher<string, string>({ ...options, maxWaiting: 2 }, async (_c, items) => { await gate; return items; });
  const running = batcher.submit('k', {}, ['1'], 1);
  const waiting = [batcher.submit('k', {}, ['2'], 1), batcher.submit('k', {}, ['3'], 1)];
  await assert.rejects(batcher.submit('k', {}, ['4'], 1), (err: Error & { code?: string }) => err.code === 'OVERLOADED');
  release();
  await Promise.all([running, ...waiting]);
});
