// Perceptron and multi-layer perceptron over dense feature vectors.
import type { GraphBuilder, Value } from '../../graph/builder.js';
import type { ModelDef } from '../model.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid';
const ACTIVATIONS: Record<Activation, (g: GraphBuilder, x: Value) => Value> = {
  relu: (g, x) => g.relu(x),
  tanh: (g, x) => g.tanh(x),
  sigmoid: (g, x) => g.sigmoid(x),
};

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
        h = ctx.g.withShape(ACTIVATIONS[config.activation ?? 'relu'](ctx.g, ctx.linear(`layers.${i}`, h, width, size)), ['batch', size]);
        h = ctx.dropout(h, config.dropout ?? 0);
        width = size;
      });
      return { inputs: [x], logits: ctx.linear('classifier', h, width, config.classes) };
    },
  };
}
