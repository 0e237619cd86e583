// The op registry: every op the autodiff and shape inference know, by ONNX op type; each op's file also has its emitters.
import { ELEMENTWISE_OPS } from './elementwise.js';
import { LINALG_OPS } from './linalg.js';
import { NN_OPS } from './nn.js';
import { REDUCE_OPS } from './reduce.js';
import { SHAPE_OPS } from './shape-ops.js';
import type { OpDef } from './types.js';

export type { CustomGradient, Emitter, GradContext, GradFn, OpDef, OpOptions, Operand, Shape, ShapeContext, Value } from './types.js';

export const OPS: Readonly<Record<string, OpDef>> = { ...ELEMENTWISE_OPS, ...LINALG_OPS, ...REDUCE_OPS, ...SHAPE_OPS, ...NN_OPS };
