// The encoder shapes `npm run bench:finetune` measures (BERT-mini / small / base layouts) and their matmul FLOPs.

export interface BenchShape {
  /** e.g. `mini-16x128` or `mlm-mini-16x128`. */
  id: string;
  task: 'classify' | 'mlm';
  layers: number;
  hidden: number;
  batch: number;
  seq: number;
}

export const VOCAB = 30522;
const SIZES: Record<string, { layers: number; hidden: number }> = { mini: { layers: 4, hidden: 256 }, small: { layers: 4, hidden: 512 }, base: { layers: 12, hidden: 768 } };

/** `[mlm-]mini|small|base-<batch>x<seq>` → the shape. */
export function parseShape(id: string): BenchShape {
  const m = /^(mlm-)?(mini|small|base)-(\d+)x(\d+)$/.exec(id.trim());
  if (!m) throw new Error(`unknown shape "${id}": use [mlm-]mini|small|base-<batch>x<seq>, e.g. base-8x256`);
  return { id: id.trim(), task: m[1] ? 'mlm' : 'classify', ...SIZES[m[2]], batch: Number(m[3]), seq: Number(m[4]) };
}

export function describeShape(s: BenchShape): string {
  const name = s.layers === 12 ? 'BERT-base' : s.hidden === 512 ? 'BERT-small' : 'BERT-mini';
  return `${s.task === 'mlm' ? 'MLM pre-training, ' : ''}${name} (L${s.layers}/H${s.hidden}), ${s.batch} × ${s.seq}`;
}

/** Matmul FLOPs of one training step: forward (projections, FFN, attention, head) × 3 for forward + backward. */
export function stepFlops(s: BenchShape): number {
  const { hidden: h, seq: t } = s;
  const perLayer = 24 * t * h * h + 4 * t * t * h; // Q, K, V, O (4 · 2th²) + FFN (2 · 2t · h · 4h) + QKᵀ and PV (2 · 2t²h)
  const head = s.task === 'mlm' ? 2 * t * h * h + 2 * t * h * VOCAB : 2 * h * h + 2 * h * 2;
  return 3 * s.batch * (s.layers * perLayer + head);
}
