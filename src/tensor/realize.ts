// Computes several tensors in one session run (what an optimizer step does with parameters, state and the loss).
import { realizeNodes } from './lazy.js';
import type { Tensor } from './tensor.js';

/** Realises every tensor given with one compiled graph (one ONNX Runtime run), so shared work is done once. */
export async function realize(tensors: readonly Tensor[]): Promise<void> {
  await realizeNodes(tensors.map((t) => t.node));
}
