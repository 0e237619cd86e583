// The tensor API (`import { tensor, nn, optim } from 'geul'`): creation, the Tensor class, autograd switches, nn, optim.
export { Tensor, type Operand, type TensorDType } from './tensor.js';
export {
  tensor, fromArray, zeros, ones, full, zerosLike, onesLike, arange, linspace, eye, rand, randn, randint,
  cat, stack, where, manualSeed, Generator, defaultGenerator, type CreateOptions, type RandomOptions, type NestedInput,
} from './create.js';
export { noGrad, isGradEnabled, tensorStats, clearCompiled, configureTensors } from './lazy.js';
export { realize } from './realize.js';
export type { SliceSpec } from './shape.js';
export * as nn from './nn/index.js';
export * as optim from './optim.js';
