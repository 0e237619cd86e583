// nn.init: torch's in-place initialisers (uniform_, normal_, zeros_, constant_) for parameters and other leaf tensors.
import { geulError } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../create.js';
import type { Tensor } from '../tensor.js';

export interface InitCall {
  generator?: Generator;
}

/** Only data leaves can be overwritten: a pending result has no storage of its own to fill. */
function leaf(t: Tensor, what: string): void {
  if (!t.isLeaf) throw geulError('INVALID_INPUT', { detail: `nn.init.${what}: needs a leaf tensor (a parameter or a created tensor), not the result of an op` });
  if (t.dtype !== 'float32') throw geulError('INVALID_INPUT', { detail: `nn.init.${what}: needs a float32 tensor (this one is ${t.dtype})` });
}

/** Fills `t` with values drawn uniformly from [a, b) (torch.nn.init.uniform_); returns `t`. */
export function uniform_(t: Tensor, a = 0, b = 1, o: InitCall = {}): Tensor {
  leaf(t, 'uniform_');
  if (!(b >= a)) throw geulError('INVALID_INPUT', { detail: `nn.init.uniform_: needs a <= b (got ${a} and ${b})` });
  const rng = (o.generator ?? defaultGenerator).rng;
  const data = new Float32Array(t.numel());
  for (let i = 0; i < data.length; i++) data[i] = a + (b - a) * rng.next();
  t.assign(data);
  return t;
}

/** Fills `t` with N(mean, std²) values (torch.nn.init.normal_); returns `t`. */
export function normal_(t: Tensor, mean = 0, std = 1, o: InitCall = {}): Tensor {
  leaf(t, 'normal_');
  if (!(std >= 0)) throw geulError('INVALID_INPUT', { detail: `nn.init.normal_: std must be non-negative (got ${std})` });
  t.assign((o.generator ?? defaultGenerator).rng.normalArray(t.numel(), std, mean));
  return t;
}

/** Fills `t` with `value` (torch.nn.init.constant_); returns `t`. */
export function constant_(t: Tensor, value: number): Tensor {
  leaf(t, 'constant_');
  t.assign(new Float32Array(t.numel()).fill(value));
  return t;
}

/** Fills `t` with zeros (torch.nn.init.zeros_); returns `t`. */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
