// nn: modules, layers and losses (`import { nn } from 'geul'`).
export { Module, Parameter } from './module.js';
export { Linear, Embedding, LayerNorm, Dropout, Sequential, ReLU, Tanh, Sigmoid, GELU, type InitOptions } from './layers.js';
export { EmbeddingBag, type EmbeddingBagOptions } from './bags.js';
export * as init from './init.js';
export { RNN, GRU, LSTM, type RecurrentOptions, type RecurrentOutput } from './recurrent.js';
export { MultiheadAttention, type AttentionOptions, type AttentionCall } from './attention.js';
export { crossEntropy, nll, mse, bce, bceWithLogits } from './losses.js';
export { exportOnnx, type ExportOptions, type AxisNames } from '../export.js';
export { exportClassifier, type ClassifierExportOptions, type TokenizerWriter } from '../export-classifier.js';
