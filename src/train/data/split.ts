// Seeded shuffling and stratified train/validation splits: same seed, same split.
import { Rng } from '../../core/random.js';

/** A seeded shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  return new Rng(seed).shuffle([...items]);
}

/**
 * Marks round(fraction × n) rows of every label for validation (1) and the rest for training (0), drawn with a
 * seeded shuffle per label (labels visited in sorted order), so the split depends only on the labels and the seed.
 */
export function stratifiedMask(labels: readonly string[], fraction: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const list = byLabel.get(l);
    if (list) list.push(i);
    else byLabel.set(l, [i]);
  });
  const mask = new Uint8Array(labels.length);
  for (const label of [...byLabel.keys()].sort()) {
    const rows = rng.shuffle(byLabel.get(label) as number[]);
    const cut = Math.round(rows.length * fraction);
    for (let k = 0; k < cut; k++) mask[rows[k]] = 1;
  }
  return mask;
}

/** Splits off a stratified `fraction` for validation; the training part comes back shuffled (seeded). */
export function stratifiedSplit<T extends { label: string }>(rows: readonly T[], fraction: number, seed: number): { train: T[]; valid: T[] } {
  const mask = stratifiedMask(rows.map((r) => r.label), fraction, seed);
  const train = rows.filter((_, i) => mask[i] === 0);
  const valid = rows.filter((_, i) => mask[i] === 1);
  return { train: shuffled(train, seed + 1), valid };
}
