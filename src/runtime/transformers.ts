// transformers.js set-up: geul resolves and downloads models itself, so transformers.js only ever reads local folders.
import * as hf from '@huggingface/transformers';

let configured = false;

/**
 * config.json model_type of the classifiers `geul train` exports ("geul-lstm" …) and of tensor-API modules ("geul-tensor"). transformers.js picks a model class
 * by model_type; these run through its generic encoder classifier, which feeds the inputs the ONNX graph declares.
 */
export const GEUL_CLASSIFIER_TYPES = [
  'geul-bow', 'geul-mlp', 'geul-rnn', 'geul-gru', 'geul-bigru', 'geul-lstm', 'geul-bilstm', 'geul-transformer',
  // A user's own nn.Module exported by exportClassifier (src/tensor/export-classifier.ts).
  'geul-tensor',
] as const;
/** The transformers.js class that runs them: any encoder-only sequence classifier over input_ids/attention_mask. */
const GEUL_CLASSIFIER_CLASS = 'BertForSequenceClassification';

/** Points transformers.js at local files only and registers geul's own classifiers; called once before the first model load. */
export function configureTransformers(): typeof hf {
  if (!configured) {
    hf.env.allowRemoteModels = false;
    hf.env.allowLocalModels = true;
    hf.env.useFSCache = false;
    hf.env.useBrowserCache = false;
    hf.env.logLevel = hf.LogLevel?.ERROR ?? hf.env.logLevel;
    const [classifiers] = hf.AutoModelForSequenceClassification.MODEL_CLASS_MAPPINGS;
    for (const type of GEUL_CLASSIFIER_TYPES) classifiers.set(type, GEUL_CLASSIFIER_CLASS);
    configured = true;
  }
  return hf;
}

export { hf };
