// Loads a Hugging Face encoder checkpoint folder: config.json → parameter spec → named float32 tensors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { openCheckpoint } from '../../core/weights/checkpoint.js';
import { loadStateDict, type LoadedWeights, type ModelParameterSpec } from '../../core/weights/state-dict.js';
import type { WeightTensor } from '../../core/weights/tensor.js';
import type { GraphBuilder, Value } from '../../graph/builder.js';
import { parseEncoderConfig, type EncoderConfig, type EncoderHead } from './config.js';
import type { ParameterSource } from './encoder-graph.js';
import { encoderParameterSpec } from './parameters.js';

export interface PretrainedEncoder {
  readonly config: EncoderConfig;
  readonly spec: ModelParameterSpec;
  readonly weights: LoadedWeights;
}

/** Reads `folder`'s config.json and weights; `head` asks for another head than the checkpoint's own (e.g. fine-tuning). */
export function loadPretrainedEncoder(folder: string, head?: EncoderHead): PretrainedEncoder {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw geulError('MODEL_FILE_MISSING', { model: folder, file: 'config.json' });
    throw geulError('MODEL_INVALID', { model: folder, detail: 'config.json is not valid JSON' });
  }
  const config = parseEncoderConfig(raw, folder, head);
  const spec = encoderParameterSpec(config);
  const source = openCheckpoint(folder);
  try {
    return { config, spec, weights: loadStateDict(source, spec, folder) };
  } finally {
    source.close();
  }
}

/**
 * A ParameterSource that makes each loaded tensor a graph initializer under its HF name (once, however often the
 * graph reads it: the tied MLM decoder reuses the word embeddings). Missing or reshaped names are GRAPH_INVALID.
 */
export function initializerSource(g: GraphBuilder, tensors: ReadonlyMap<string, WeightTensor>): ParameterSource {
  const made = new Map<string, Value>();
  return (name, shape) => {
    const cached = made.get(name);
    if (cached) return cached;
    const tensor = tensors.get(name);
    if (!tensor) throw geulError('GRAPH_INVALID', { detail: `no weights for parameter ${name}` });
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw geulError('GRAPH_INVALID', { detail: `parameter ${name} has shape [${tensor.shape.join(', ')}], the graph needs [${shape.join(', ')}]` });
    }
    const value = g.param(name, tensor.data, shape);
    made.set(name, value);
    return value;
  };
}
