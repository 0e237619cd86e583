// transformers.js set-up: geul resolves and downloads models itself, so transformers.js only ever reads local folders.
import * as hf from '@huggingface/transformers';

let configured = false;

/** Points transformers.js at local files only; called once before the first model load. */
export function configureTransformers(): typeof hf {
  if (!configured) {
    hf.env.allowRemoteModels = false;
    hf.env.allowLocalModels = true;
    hf.env.useFSCache = false;
    hf.env.useBrowserCache = false;
    hf.env.logLevel = hf.LogLevel?.ERROR ?? hf.env.logLevel;
    configured = true;
  }
  return hf;
}

export { hf };
