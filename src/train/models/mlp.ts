// Perceptron and multi-layer perceptron over dense feature vectors.
import type { Value } from '../../graph/builder.js';
import type { ModelDef } from '../model.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid';
const ACTIVATION_OPS: Record<Activation, string> = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' };

export interface MlpConfig {
  features: number;
  /** Hidden layer widths; empty for a perceptron (a single linear layer). */
  hidden: number[];
  classes: number;
  activation?: Activation;
  dropout?: number;
}

export function mlp(config: MlpConfig): ModelDef {
  return {
    kind: config.hidden.length === 0 ? 'perceptron' : 'mlp',
    classes: config.classes,
    config: { ...config },
    build(ctx) {
      const x = ctx.g.input('x', 'float32', ['batch', config.features]);
      let h: Value = x;
      let width = config.features;
      config.hidden.forEach((size, i) => {
        h = ctx.g.op1(ACTIVATION_OPS[config.activation ?? 'relu'], [ctx.linear(`layers.${i}`, h, width, size)], {}, { shape: ['batch', size] });
        h = ctx.dropout(h, config.dropout ?? 0);
        width = size;
      });
      return { inputs: [x], logits: ctx.linear('classifier', h, width, config.classes) };
    },
  };
}
