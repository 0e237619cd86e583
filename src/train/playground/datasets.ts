// The neural-network playground's 2-D toy sets (TensorFlow Playground's): xor, circles, spirals, moons, drawn from a seed.
import { Rng } from '../../core/random.js';

export const DATASETS = ['xor', 'circles', 'spirals', 'moons'] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface Points {
  /** [n, 2] coordinates in the square [-1, 1]². */
  x: Float32Array;
  /** Class of each point, 0 or 1. */
  y: Uint8Array;
}

type Draw = (rng: Rng, i: number, n: number) => [number, number, number];

const DRAWS: Record<DatasetName, Draw> = {
  // Quadrants, pushed a little off the axes (as the Playground pads them) so the classes do not touch.
  xor: (rng) => {
    const pad = 0.06;
    const px = rng.next() * 2 - 1;
    const py = rng.next() * 2 - 1;
    const x = px + (px > 0 ? pad : -pad) * (1 - Math.abs(px));
    const y = py + (py > 0 ? pad : -pad) * (1 - Math.abs(py));
    return [x, y, x * y >= 0 ? 1 : 0];
  },
  // Half the points inside radius 0.4 (class 1), half in the ring 0.6 … 0.95 (class 0).
  circles: (rng, i) => {
    const inner = i % 2 === 0;
    const r = inner ? 0.4 * Math.sqrt(rng.next()) : 0.6 + 0.35 * rng.next();
    const a = rng.next() * 2 * Math.PI;
    return [r * Math.cos(a), r * Math.sin(a), inner ? 1 : 0];
  },
  // Two interleaved arms of 1.75 turns each, the second rotated by half a turn.
  spirals: (rng, i, n) => {
    const arm = i % 2;
    const t = (Math.floor(i / 2) / Math.ceil(n / 2)) * 1.75 * 2 * Math.PI;
    const r = (0.9 * t) / (3.5 * Math.PI) + 0.04 * rng.next();
    const a = t + arm * Math.PI;
    return [r * Math.cos(a), r * Math.sin(a), arm];
  },
  // scikit-learn's make_moons (upper moon class 0, lower moon class 1), centred and scaled into the square.
  moons: (rng, i) => {
    const lower = i % 2 === 1;
    const a = rng.next() * Math.PI;
    const mx = lower ? 1 - Math.cos(a) : Math.cos(a);
    const my = lower ? 0.5 - Math.sin(a) : Math.sin(a);
    return [(mx - 0.5) * 0.62, (my - 0.25) * 0.62 * 1.2, lower ? 1 : 0];
  },
};

/** `n` points of a set, with Gaussian noise of standard deviation `noise` (in units of the square's half-width). */
export function makeDataset(name: DatasetName, n: number, noise: number, seed: number): Points {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [px, py, label] = DRAWS[name](rng, i, n);
    x[i * 2] = clamp(px + noise * rng.normal());
    x[i * 2 + 1] = clamp(py + noise * rng.normal());
    y[i] = label;
  }
  return { x, y };
}

const clamp = (v: number) => Math.max(-1, Math.min(1, v));

/** The `size` × `size` lattice over [-1, 1]² (row-major, top row first: y = 1 down to y = -1), as [size², 2] coordinates. */
export function lattice(size: number): Float32Array {
  const out = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const k = (r * size + c) * 2;
      out[k] = -1 + (2 * c) / (size - 1);
      out[k + 1] = 1 - (2 * r) / (size - 1);
    }
  }
  return out;
}
