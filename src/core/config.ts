// The one typed configuration object: defaults < config file < environment < flags, validated at start-up.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Type, parseLoose, type Static } from './schema.js';
import { geulError } from './errors.js';

export const DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;

export const ConfigSchema = Type.Object({
  hubUrl: Type.String({ default: 'https://huggingface.co', description: 'Model hub endpoint (mirrors welcome)' }),
  hubToken: Type.Optional(Type.String({ description: 'Bearer token for private hub repos' })),
  revision: Type.String({ default: 'main', description: 'Default model revision (branch, tag or commit)' }),
  cacheDir: Type.String({ description: 'Where downloaded models are kept' }),
  dataDir: Type.String({ description: 'Where geul keeps its own state (keys, jobs)' }),
  offline: Type.Boolean({ default: false, description: 'Never touch the network' }),
  dtype: Type.Enum(DTYPES, { default: 'auto', description: 'Weight precision to load' }),
  threads: Type.Integer({ minimum: 0, default: 0, description: 'Inference threads (0 = onnxruntime default)' }),
  redis: Type.Optional(Type.String({ minLength: 1, description: 'Redis URL (redis://[user:pass@]host:port[/db]): jobs on BullMQ, keys, quotas and rate limits shared by every replica' })),
  redisPrefix: Type.String({ minLength: 1, default: 'geul', description: 'Prefix of every Redis key geul writes (several deployments can share one Redis)' }),
  logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  server: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'Address the HTTP server binds to' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787, description: 'HTTP port' }),
    auth: Type.Enum(['required', 'auto', 'off'], { default: 'auto', description: 'API keys: auto = required unless bound to loopback' }),
    corsOrigins: Type.Array(Type.String(), { default: [], description: 'Origins allowed by CORS (empty = no CORS)' }),
    ui: Type.Boolean({ default: true, description: 'Serve the web UI at / and /ui/ (false: the HTTP API only)' }),
    bodyLimit: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024, description: 'Largest request body in bytes' }),
    maxBatch: Type.Integer({ minimum: 1, default: 256, description: 'Most inputs in one request' }),
    maxTextLength: Type.Integer({ minimum: 1, default: 20_000, description: 'Longest input text in characters' }),
    maxNewTokens: Type.Integer({ minimum: 1, default: 512, description: 'Largest max_new_tokens a request may ask for' }),
    queueSize: Type.Integer({ minimum: 1, default: 256, description: 'Inference calls allowed to wait; beyond it requests get 503' }),
    batchMaxSize: Type.Integer({ minimum: 1, default: 32, description: 'Micro-batching: most inputs merged into one model call' }),
    batchMaxTokens: Type.Integer({ minimum: 1, default: 16_384, description: 'Micro-batching: token budget of one merged call (estimated)' }),
    batchMaxWaitMs: Type.Number({ minimum: 0, default: 2, description: 'Micro-batching: longest wait for more inputs (ms)' }),
    workers: Type.Integer({ minimum: 0, default: 0, description: 'Inference worker threads (0 = auto)' }),
    wideWorker: Type.Boolean({ default: true, description: 'With several workers and auto threads: one more worker whose sessions use every core, for batched (encoder) requests that find the server idle, so a lone request is not held to one core (it keeps its own copy of those models)' }),
    tlsCert: Type.Optional(Type.String({ description: 'TLS certificate file (PEM)' })),
    tlsKey: Type.Optional(Type.String({ description: 'TLS private key file (PEM)' })),
    modelsDir: Type.Optional(Type.String({ description: 'Folder whose model sub-folders are served by their folder name' })),
    allowHubModels: Type.Boolean({ default: false, description: 'Let requests name any hub model id (downloads on demand)' }),
    cachedHubModels: Type.Boolean({
      default: true,
      description: 'Serve the hub models already in the cache (an admin pulled them: POST /v1/models/pull, geul models pull) even without allowHubModels; false: only --models folders, the defaults and models jobs made',
    }),
    defaults: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Default model per task id, e.g. {"embeddings": "tiny-bert-embed"}' }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10_000, description: 'Graceful shutdown deadline for in-flight requests' }),
    uploadLimit: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024, description: 'Largest file POST /v1/files accepts, in bytes (over it: 413)' }),
    vectors: Type.Record(Type.String(), Type.Object({
      path: Type.String({ minLength: 1, description: 'Vector file (word2vec .bin/.txt, GloVe, fastText .vec, .gz) or hub:owner/name/path' }),
      limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Load only the first N (most frequent) words' })),
      format: Type.Optional(Type.Enum(['auto', 'bin', 'txt', 'vec', 'glove'], { description: 'File format (default: detected)' })),
    }), { default: {}, description: 'Word-vector sets served under /v1/words by name, e.g. {"en": {"path": "vectors.bin"}}; the first is the default' }),
    datasets: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), Type.String({ minLength: 1 }), {
      default: {},
      description: 'Server-side training data jobs may name as "dataset:NAME" (GET /v1/datasets lists them), e.g. {"reviews": "/data/reviews.tsv"}; no other server path is open to non-admin keys',
    }),
  }, { default: {} }),
  jobs: Type.Object({
    concurrency: Type.Integer({ minimum: 0, maximum: 256, default: 1, description: 'Jobs run at once, each in its own child process (0: the server only queues)' }),
    maxRunningPerKey: Type.Integer({ minimum: 1, default: 1, description: 'Jobs of one API key running at once' }),
    maxPendingPerKey: Type.Integer({ minimum: 1, default: 32, description: 'Jobs of one API key queued or running; beyond it POST /v1/jobs answers 429' }),
    dir: Type.Optional(Type.String({ minLength: 1, description: 'Where job folders (outputs, checkpoints) and uploaded files live (default: <dataDir>/jobs)' })),
    heartbeatMs: Type.Integer({ minimum: 10, default: 1000, description: 'How often a runner reports a running job alive and checks for a cancel' }),
    artifacts: Type.Object({
      store: Type.Enum(['local', 's3'], { default: 'local', description: 'Where finished jobs publish their artifacts: a folder (local disk or a shared volume) or an S3-compatible bucket' }),
      dir: Type.Optional(Type.String({ minLength: 1, description: 'local: the artifacts folder (default: the jobs folder itself, so nothing is copied)' })),
      bucket: Type.Optional(Type.String({ minLength: 1, description: 's3: the bucket (it must exist)' })),
      prefix: Type.String({ default: '', description: 's3: key prefix, e.g. "geul/" (objects are <prefix><job id>/<path>)' }),
      endpoint: Type.Optional(Type.String({ minLength: 1, description: 's3: endpoint URL of an S3-compatible server (MinIO, Ceph, R2 …); absent: AWS' })),
      region: Type.String({ minLength: 1, default: 'us-east-1', description: 's3: region' }),
      forcePathStyle: Type.Optional(Type.Boolean({ description: 's3: path-style URLs (default: on when an endpoint is set)' })),
    }, { default: {}, description: 'Artifact storage; S3 credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or the AWS default chain), never from the config file' }),
    // Redis mode (config.redis) only: BullMQ's delivery settings.
    withWorker: Type.Boolean({ default: false, description: 'Redis mode: this server also processes jobs (geul serve --with-worker); without it it only enqueues' }),
    lockDurationMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Redis mode: a claimed job\'s lock; the heartbeat renews it, and a worker that stops renewing loses the job to another' }),
    stalledIntervalMs: Type.Integer({ minimum: 50, default: 30_000, description: 'Redis mode: how often workers look for jobs whose lock expired (their worker died) and re-queue them, and how often every process (API replicas too) corrects such jobs\' records to queued, cancelled or failed' }),
    attempts: Type.Integer({ minimum: 1, default: 3, description: 'Runs of a job before it fails with JOB_PROCESS_DIED: in Redis mode a died process is retried until then; in either mode a job whose server or worker died in each of its runs is not run again; other failures are final' }),
    backoffMs: Type.Integer({ minimum: 0, default: 5000, description: 'Redis mode: first retry delay after a died process (exponential)' }),
  }, { default: {} }),
});

export type GeulConfig = Static<typeof ConfigSchema>;
export type ConfigOverrides = Partial<Record<keyof GeulConfig, unknown>>;

/** Per-user cache and data folders following the XDG convention; never inside node_modules. */
export function defaultDirs(env: NodeJS.ProcessEnv = process.env): { cacheDir: string; dataDir: string } {
  const home = homedir();
  const cacheRoot = env.XDG_CACHE_HOME || join(home, '.cache');
  const dataRoot = env.XDG_DATA_HOME || join(home, '.local', 'share');
  return { cacheDir: join(cacheRoot, 'geul', 'models'), dataDir: join(dataRoot, 'geul') };
}

/** Reads GEUL_* variables (and the Hugging Face ones users already set). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  const out: ConfigOverrides = {};
  const hub = env.GEUL_HUB_URL ?? env.HF_ENDPOINT;
  if (hub) out.hubUrl = hub;
  const token = env.GEUL_HUB_TOKEN ?? env.HF_TOKEN;
  if (token) out.hubToken = token;
  if (env.GEUL_REVISION) out.revision = env.GEUL_REVISION;
  if (env.GEUL_CACHE_DIR) out.cacheDir = env.GEUL_CACHE_DIR;
  if (env.GEUL_DATA_DIR) out.dataDir = env.GEUL_DATA_DIR;
  const offline = env.GEUL_OFFLINE ?? env.HF_HUB_OFFLINE;
  if (offline !== undefined && offline !== '') out.offline = !['0', 'false', 'no'].includes(offline.toLowerCase());
  if (env.GEUL_DTYPE) out.dtype = env.GEUL_DTYPE;
  if (env.GEUL_THREADS) out.threads = env.GEUL_THREADS;
  if (env.GEUL_LOG_LEVEL) out.logLevel = env.GEUL_LOG_LEVEL;
  if (env.GEUL_REDIS_URL) out.redis = env.GEUL_REDIS_URL;
  if (env.GEUL_REDIS_PREFIX) out.redisPrefix = env.GEUL_REDIS_PREFIX;
  const jobs: Record<string, unknown> = {};
  if (env.GEUL_JOBS_DIR) jobs.dir = env.GEUL_JOBS_DIR;
  const artifacts: Record<string, string> = env.GEUL_ARTIFACTS ? artifactsOption(env.GEUL_ARTIFACTS) : {};
  if (env.GEUL_S3_ENDPOINT) artifacts.endpoint = env.GEUL_S3_ENDPOINT;
  const region = env.GEUL_S3_REGION ?? env.AWS_REGION;
  if (region) artifacts.region = region;
  if (Object.keys(artifacts).length > 0) jobs.artifacts = artifacts;
  if (Object.keys(jobs).length > 0) out.jobs = jobs;
  const server: Record<string, string> = {};
  const serverEnv: Record<string, string> = { GEUL_HOST: 'host', GEUL_PORT: 'port', GEUL_AUTH: 'auth', GEUL_MODELS_DIR: 'modelsDir', GEUL_WORKERS: 'workers' };
  for (const [name, key] of Object.entries(serverEnv)) if (env[name]) server[key] = env[name] as string;
  if (Object.keys(server).length > 0) out.server = server;
  return out;
}

/**
 * `--artifacts` / GEUL_ARTIFACTS: `s3://bucket/prefix` is an S3 store, anything else a local folder.
 * @example artifactsOption('s3://geul/prod') // → { store: 's3', bucket: 'geul', prefix: 'prod/' }
 */
export function artifactsOption(value: string): Record<string, string> {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value);
  if (!m) return { store: 'local', dir: value };
  const prefix = m[2].replace(/\/*$/, '');
  return { store: 's3', bucket: m[1], prefix: prefix ? `${prefix}/` : '' };
}

/** The config file: $GEUL_CONFIG, else ./geul.config.json, else <XDG_CONFIG_HOME>/geul/config.json. */
export function configFromFile(path?: string, env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  const candidates = path
    ? [path]
    : [env.GEUL_CONFIG, 'geul.config.json', join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'geul', 'config.json')];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const full = resolve(candidate);
    if (!existsSync(full)) {
      if (path) throw geulError('FILE_NOT_FOUND', { path: full });
      continue;
    }
    try {
      const parsed: unknown = JSON.parse(readFileSync(full, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      return parsed as ConfigOverrides;
    } catch (err) {
      throw geulError('INVALID_CONFIG', { detail: `${full}: ${(err as Error).message}` });
    }
  }
  return {};
}

function dropUndefined(o: ConfigOverrides): ConfigOverrides {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ConfigOverrides;
}

/** Builds and validates the configuration; `flags` win over env, env over the file, the file over defaults. */
export function loadConfig(
  flags: ConfigOverrides = {},
  options: { env?: NodeJS.ProcessEnv; file?: string; skipFile?: boolean } = {},
): GeulConfig {
  const env = options.env ?? process.env;
  const layers = [options.skipFile ? {} : dropUndefined(configFromFile(options.file, env)), dropUndefined(configFromEnv(env)), dropUndefined(flags)];
  const merged = Object.assign({}, defaultDirs(env), ...layers) as Record<string, unknown>;
  // The server section merges field by field, so a flag like --port keeps the file's host.
  // Each layer's unset fields are dropped before merging, so a flag left out (undefined) keeps the env's or file's value.
  const sections = (values: unknown[]): Record<string, unknown>[] => values.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null).map((v) => dropUndefined(v));
  const server = sections(layers.map((l) => l.server));
  if (server.length > 0) merged.server = Object.assign({}, ...server) as ConfigOverrides;
  const jobs = sections(layers.map((l) => l.jobs));
  if (jobs.length > 0) merged.jobs = Object.assign({}, ...jobs) as ConfigOverrides;
  // jobs.artifacts too, so GEUL_S3_ENDPOINT keeps the file's bucket.
  const artifacts = sections(jobs.map((j) => j.artifacts));
  if (artifacts.length > 0) (merged.jobs as Record<string, unknown>).artifacts = Object.assign({}, ...artifacts) as ConfigOverrides;
  let checked: GeulConfig;
  try {
    checked = parseLoose(ConfigSchema, merged, 'config');
    checked.hubUrl = checked.hubUrl.replace(/\/+$/, '');
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/^Invalid input: /, '') : String(err);
    throw geulError('INVALID_CONFIG', { detail });
  }
  if (checked.jobs.artifacts.store === 's3' && !checked.jobs.artifacts.bucket) throw geulError('INVALID_CONFIG', { detail: 'jobs.artifacts.bucket: an s3 artifact store needs a bucket (or GEUL_ARTIFACTS=s3://bucket/prefix)' });
  return checked;
}
