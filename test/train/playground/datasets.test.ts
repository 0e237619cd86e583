// The playground's toy sets: seeded, inside the square, both classes present, shaped as named; the lattice's corners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATASETS, lattice, makeDataset } from '../../../src/train/playground/datasets.js';

test('each set is determined by its seed, lies in [-1, 1]² and holds both classes about equally', () => {
  for (const name of DATASETS) {
    const a = makeDataset(name, 200, 0.1, 7);
    assert.deepEqual(makeDataset(name, 200, 0.1, 7), a, `${name}: same seed, same points`);
    assert.notDeepEqual(makeDataset(name, 200, 0.1, 8).x, a.x, `${name}: another seed, other points`);
    assert.equal(a.x.length, 400);
    assert.ok(a.x.every((v) => v >= -1 && v <= 1), name);
    const ones = a.y.reduce((n, v) => n + v, 0);
    assert.ok(ones > 60 && ones < 140, `${name}: ${ones} of 200 in class 1`);
  }
});

test('without noise the sets have their shapes: XOR by quadrant, circles by radius', () => {
  const xor = makeDataset('xor', 300, 0, 1);
  for (let i = 0; i < 300; i++) assert.equal(xor.y[i], Number(xor.x[i * 2] * xor.x[i * 2 + 1] >= 0));
  const circles = makeDataset('circles', 300, 0, 1);
  for (let i = 0; i < 300; i++) {
    const r = Math.hypot(circles.x[i * 2], circles.x[i * 2 + 1]);
    assert.ok(circles.y[i] === 1 ? r <= 0.4 + 1e-6 : r >= 0.6 - 1e-6, `point ${i}: r ${r}, class ${circles.y[i]}`);
  }
});

test('the lattice runs row by row from the top-left corner (-1, 1) to the bottom-right (1, -1)', () => {
  const g = lattice(5);
  assert.equal(g.length, 50);
  assert.deepEqual([g[0], g[1]], [-1, 1]);
  assert.deepEqual([g[8], g[9]], [1, 1]);
  assert.deepEqual([g[48], g[49]], [1, -1]);
});
