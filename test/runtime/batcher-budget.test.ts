// Token-budget batching (TEI-style): padded cost = items × longest; mixed lengths are cut into length-sorted calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher, planCalls } from '../../src/runtime/batcher.js';

test('planCalls: equal lengths stay one call; short and long items go to separate calls; limits hold', () => {
  assert.deepEqual(planCalls([5, 5, 5, 5], 32, 1000, 32), [0, 4]);
  // 4 × 2 + 2 × 50 (+ 2 calls) beats 6 × 50 (+ 1 call).
  assert.deepEqual(planCalls([2, 2, 2, 2, 50, 50], 32, 1000, 32), [0, 4, 6]);
  // A small difference is not worth another call.
  assert.deepEqual(planCalls([10, 10, 11, 12], 32, 1000, 32), [0, 4]);
  assert.deepEqual(planCalls([1, 1, 1, 1, 1], 2, 1000, 32), [0, 2, 4, 5]);
  // Padded budget 100: at most 3 items of 30; an item over the budget goes alone.
  assert.deepEqual(planCalls([30, 30, 30, 30, 200], 32, 100, 1), [0, 3, 4, 5]);
});

test('a waiting group of mixed lengths runs as length-sorted calls; every request gets its own answers in order', async () => {
  const calls: string[][] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const batcher = new MicroBatcher<string, string>({ maxItems: 64, maxCost: 100_000, maxWaitMs: 5, maxInFlight: 1, maxWaiting: 100, callCost: 8 }, async (_ctx, items) => {
    calls.push(items);
    if (calls.length === 1) await gate;
    return items.map((s) => s.toUpperCase());
  });
  const first = batcher.submit('k', {}, ['x'], [1]);
  const long = 'l'.repeat(40);
  const waiting = [
    batcher.submit('k', {}, ['a', long], [1, 40]),
    batcher.submit('k', {}, ['b'], [1]),
    batcher.submit('k', {}, [`${long}2`, 'c'], [41, 1]),
    batcher.submit('k', {}, ['d'], 1),
  ];
  release();
  assert.deepEqual(await first, ['X']);
  assert.deepEqual(await Promise.all(waiting), [['A', long.toUpperCase()], ['B'], [`${long}2`.toUpperCase(), 'C'], ['D']]);
  assert.deepEqual(calls.slice(1).map((c) => c.length).sort(), [2, 4]);
  assert.deepEqual(calls.slice(1).find((c) => c.length === 4), ['a', 'b', 'c', 'd']);
});

test('the padded budget sends the waiting group before a long request would overflow it', async () => {
  const calls: number[][] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const batcher = new MicroBatcher<number, number>({ maxItems: 64, maxCost: 100, maxWaitMs: 1000, maxInFlight: 1, maxWaiting: 100 }, async (_ctx, items) => {
    calls.push(items);
    if (calls.length === 1) await gate;
    return items;
  });
  const all = [batcher.submit('k', {}, [0], 1), batcher.submit('k', {}, [1], 10), batcher.submit('k', {}, [2], 10), batcher.submit('k', {}, [3], 60)];
  release();
  await Promise.all(all);
  // [1, 2] (2 × 10) plus 3 would pad to 3 × 60 = 180 > 100: they run apart.
  assert.deepEqual(calls, [[0], [1, 2], [3]]);
});

test('when one of the calls fails, only requests with an item in it fail', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  let n = 0;
  const batcher = new MicroBatcher<number, number>({ maxItems: 64, maxCost: 100_000, maxWaitMs: 5, maxInFlight: 1, maxWaiting: 100, callCost: 1 }, async (_ctx, items) => {
    if (n++ === 0) await gate;
    if (items.some((x) => x >= 100)) throw new Error('too long');
    return items;
  });
  const first = batcher.submit('k', {}, [0], 1);
  const short = batcher.submit('k', {}, [1, 2], [1, 1]);
  const long = batcher.submit('k', {}, [100], 90);
  const both = batcher.submit('k', {}, [3, 200], [1, 90]);
  release();
  await first;
  assert.deepEqual(await short, [1, 2]);
  await assert.rejects(long, /too long/);
  await assert.rejects(both, /too long/);
});
