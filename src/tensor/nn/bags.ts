// nn.EmbeddingBag: the sum or mean of the embeddings of each row of ids, padding excluded (fastText-style text models).
import { geulError } from '../../core/errors.js';
import { randn } from '../create.js';
import type { Tensor } from '../tensor.js';
import type { InitOptions } from './layers.js';
import { Module, Parameter } from './module.js';

export interface EmbeddingBagOptions extends InitOptions {
  /** How a bag's embeddings are combined (default 'mean', as torch). */
  mode?: 'sum' | 'mean';
  /** Ids equal to this are padding: they add nothing and do not count towards the mean (torch's padding_idx). */
  paddingIdx?: number;
}

/**
 * torch's EmbeddingBag for 2-D input: each row of int64 ids [bags, length] is one bag, padded to the common length
 * with `paddingIdx`; the result is [bags, dim]. A bag of padding only gives zeros. The weight starts N(0, 1) like torch's.
 * Written with tensor ops (a lookup, a mask, a reduction), so the gradient is the lookup's: each used row gets the
 * sum of its bags' gradients (divided by the bag's size in mean mode), and the padding row gets none.
 */
export class EmbeddingBag extends Module {
  readonly weight: Parameter;
  readonly mode: 'sum' | 'mean';
  readonly paddingIdx?: number;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, o: EmbeddingBagOptions = {}) {
    super();
    this.mode = o.mode ?? 'mean';
    if (o.paddingIdx !== undefined && !(Number.isInteger(o.paddingIdx) && o.paddingIdx >= 0 && o.paddingIdx < numEmbeddings)) {
      throw geulError('INVALID_INPUT', { detail: `EmbeddingBag: paddingIdx must be an id in [0, ${numEmbeddings}) (got ${o.paddingIdx})` });
    }
    this.paddingIdx = o.paddingIdx;
    this.weight = new Parameter(randn([numEmbeddings, embeddingDim], { generator: o.generator }));
  }

  forward(ids: Tensor): Tensor {
    if (ids.ndim !== 2) throw geulError('INVALID_INPUT', { detail: `EmbeddingBag: needs ids [bags, length] (got shape [${ids.shape.join(', ')}]); pad the bags to one length with paddingIdx` });
    const vectors = this.weight.indexSelect(0, ids);
    if (this.paddingIdx === undefined) return this.mode === 'sum' ? vectors.sum(1) : vectors.mean(1);
    const keep = ids.ne(this.paddingIdx).float().unsqueeze(-1);
    const total = vectors.mul(keep).sum(1);
    // At least 1 in the divisor: an all-padding bag is 0 / 1 = 0 (torch gives zeros too), not NaN.
    return this.mode === 'sum' ? total : total.div(keep.sum(1).clamp(1));
  }
}
