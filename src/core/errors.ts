// The one catalog of geul errors: a stable code, a message template and the HTTP status it maps to.

/** Every error geul raises on purpose. Add new codes here, never ad hoc `new Error` at boundaries. */
export const ERROR_CATALOG = {
  INVALID_INPUT: { status: 400, message: 'Invalid input: {detail}' },
  INVALID_CONFIG: { status: 400, message: 'Invalid configuration: {detail}' },
  UI_NOT_BUILT: { status: 503, message: 'The web UI is not built ({detail}): run `npm run build`, or start the server with --no-ui' },
  INVALID_MODEL_ID: { status: 400, message: 'Invalid model id "{model}": {detail}' },
  MODEL_NOT_FOUND: { status: 404, message: 'Model "{model}" was not found{where}' },
  MODEL_FILE_MISSING: { status: 422, message: 'Model "{model}" is missing file "{file}"' },
  MODEL_INVALID: { status: 422, message: 'Model "{model}" could not be loaded: {detail}' },
  TASK_NOT_SUPPORTED: { status: 422, message: 'Model "{model}" cannot do task "{task}": {detail}' },
  UNKNOWN_TASK: { status: 404, message: 'Unknown task "{task}"' },
  UNKNOWN_LANGUAGE: { status: 400, message: 'Language "{language}" is not supported by model "{model}"' },
  OFFLINE_NOT_CACHED: { status: 503, message: 'Offline mode: "{file}" of model "{model}" is not cached (run `geul models pull {model}` while online)' },
  HUB_UNREACHABLE: { status: 502, message: 'Cannot reach the model hub at {url}: {detail}' },
  HUB_ERROR: { status: 502, message: 'The model hub answered {status} for {url}' },
  DOWNLOAD_INCOMPLETE: { status: 502, message: 'Download of {url} was incomplete: got {received} of {expected} bytes' },
  DOWNLOAD_CORRUPT: { status: 502, message: 'Download of {url} does not match what the hub announced: {detail}' },
  FILE_NOT_FOUND: { status: 404, message: 'File not found: {path}' },
  FILE_INVALID: { status: 400, message: 'Invalid file {path}: {detail}' },
  UNKNOWN_WORD: { status: 404, message: 'Word "{word}" is not in the vocabulary{hint}' },
  UNKNOWN_VECTORS: { status: 404, message: 'Vector set "{name}" is not served here{known}' },
  VECTORS_UNAVAILABLE: { status: 503, message: 'Vector set "{name}" could not be loaded ({detail}); see the server log' },
  DATA_INVALID: { status: 400, message: 'Invalid data in {path}{where}: {detail}' },
  DATASET_NOT_FOUND: { status: 404, message: 'Dataset "{dataset}" was not found{where}' },
  DATA_COLUMN_MISSING: { status: 400, message: 'Column "{column}" is missing in {path}{where} (columns: {columns})' },
  DATA_ONE_CLASS: { status: 400, message: 'Only one label ("{label}") in {path}: a classifier needs at least two classes' },
  DATA_LABEL_UNKNOWN: { status: 400, message: 'Label "{label}" in {path}{where} is not in the label set ({labels})' },
  DATA_EMPTY_TEXT: { status: 400, message: 'Empty text in {path}{where} (column "{column}")' },
  TRAINING_FAILED: { status: 500, message: 'Training failed: {detail}' },
  OUTPUT_INVALID: { status: 400, message: 'Cannot write the output folder {path}: {detail}' },
  GRAPH_INVALID: { status: 500, message: 'Cannot build the model graph: {detail}' },
  UNAUTHORIZED: { status: 401, message: 'Missing or invalid API key' },
  FORBIDDEN: { status: 403, message: 'This API key lacks the "{scope}" scope' },
  RATE_LIMITED: { status: 429, message: 'Rate limit exceeded; retry in {retryAfter} s' },
  QUOTA_EXCEEDED: { status: 429, message: 'Daily quota exceeded ({quota})' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Request too large: {detail}' },
  OVERLOADED: { status: 503, message: 'Server busy; retry in {retryAfter} s' },
  NOT_FOUND: { status: 404, message: '{what} not found' },
  CANCELLED: { status: 499, message: 'Request was cancelled' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request headers are larger than the server accepts' },
  ADDRESS_IN_USE: { status: 500, message: 'Cannot listen on {address}: it is already in use (stop the other server or choose another --port)' },
  LISTEN_FAILED: { status: 500, message: 'Cannot listen on {address}: {detail}' },
  TLS_INVALID: { status: 400, message: 'Invalid TLS certificate or key: {detail} (--tls-cert and --tls-key must be a matching PEM certificate and private key)' },
  INTERNAL: { status: 500, message: 'Internal error' },
  WEIGHTS_INVALID: { status: 422, message: 'Invalid weights file {path}: {detail}' },
  WEIGHTS_HEADER_TOO_LARGE: { status: 422, message: 'Weights file {path} declares a {bytes}-byte header, over the {limit}-byte limit (corrupt or not safetensors)' },
  WEIGHTS_OFFSETS_INVALID: { status: 422, message: 'Weights file {path}: tensor "{tensor}" has invalid data offsets: {detail}' },
  WEIGHTS_SHAPE_MISMATCH: { status: 422, message: 'Weights file {path}: tensor "{tensor}" ({dtype}, shape [{shape}]) needs {expected} bytes but its offsets span {actual}' },
  WEIGHTS_SIZE_MISMATCH: { status: 422, message: 'Weights file {path} is {actual} bytes but its header describes {expected} (truncated or corrupt)' },
  WEIGHTS_DTYPE_UNSUPPORTED: { status: 422, message: 'Weights file {path}: tensor "{tensor}" has dtype {dtype}; geul reads {supported}' },
  PICKLE_REJECTED: { status: 422, message: 'Refused to load {path}: its pickle uses {what}, which a state_dict never needs (nothing was executed)' },
  STATE_DICT_MISMATCH: { status: 422, message: 'Checkpoint {model} does not fit a {architecture} model: {detail}' },
  // Fine-tuning (issue 9, geul finetune).
  TRAINING_OUT_OF_MEMORY: { status: 503, message: 'Not enough memory to run a batch of {batch} rows ({detail}): lower --batch-size and raise --grad-accum to keep the effective batch size' },
  TOKENIZER_VOCAB_MISMATCH: { status: 422, message: 'The tokenizer of {model} makes ids up to {tokens} but its embeddings have {rows} rows: tokenizer.json and the weights do not belong together' },
  // Jobs (src/jobs, /v1/jobs, /v1/files).
  JOB_LIMIT: { status: 429, message: 'This API key already has {limit} jobs {what}; wait for one to finish or cancel one' },
  JOB_PROCESS_DIED: { status: 500, message: 'The job process exited unexpectedly ({detail})' },
  JOB_NOT_FINISHED: { status: 409, message: 'Job {id} is {state}; {detail}' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'Range {range} is outside the {bytes}-byte file' },
  AUTH_DISABLED: { status: 409, message: 'API keys are not in use on this server (auth is off, or auto on a loopback address); {detail}' },
  REDIS_UNREACHABLE: { status: 503, message: 'Cannot reach Redis at {url}: {detail} (start redis-server, or check --redis / GEUL_REDIS_URL)' },
  ARTIFACT_STORE_FAILED: { status: 502, message: 'The artifact store ({store}) could not {action}: {detail}' },
  SERVER_UNREACHABLE: { status: 502, message: 'Cannot reach the geul server at {url}: {detail} (start it with `geul serve`, or set --url / GEUL_URL)' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export type ErrorParams = Record<string, string | number | undefined>;

/** An expected, user-facing failure: code + readable message, safe to show (no stack trace). */
export class GeulError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    super(formatMessage(ERROR_CATALOG[code].message, params), options);
    this.name = 'GeulError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.params = params;
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

function formatMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ''));
}

/** Shorthand used across layers: `throw geulError('UNKNOWN_WORD', { word })`. */
export function geulError(code: ErrorCode, params: ErrorParams = {}, cause?: unknown): GeulError {
  return new GeulError(code, params, cause === undefined ? undefined : { cause });
}

export function isGeulError(err: unknown): err is GeulError {
  return err instanceof GeulError;
}

/** Wraps anything thrown into a GeulError; unknown failures become INTERNAL without leaking details. */
export function toGeulError(err: unknown): GeulError {
  if (err instanceof GeulError) return err;
  return new GeulError('INTERNAL', {}, { cause: err });
}
