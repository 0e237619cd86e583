// Word vectors → 2-D points in the browser: PCA (ml-pca) or UMAP (umap-js), seeded so a map looks the same each time.
import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';

export type Method = 'pca' | 'umap';

/** A small seeded generator (mulberry32) for UMAP's initialisation, so the same words give the same map. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function project(vectors: number[][], method: Method): [number, number][] {
  if (vectors.length === 0) return [];
  if (vectors.length < 3) return vectors.map((_, i) => [i, 0]);
  if (method === 'umap' && vectors.length >= 5) {
    const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, vectors.length - 1), minDist: 0.1, random: seeded(42) });
    return umap.fit(vectors).map((p) => [p[0]!, p[1]!]);
  }
  const pca = new PCA(vectors, { center: true });
  return pca.predict(vectors, { nComponents: 2 }).to2DArray().map((p) => [p[0]!, p[1] ?? 0]);
}
