// `geul serve`: the HTTP API server (see docs in the OpenAPI reference at /docs once it runs).
import type { Command } from 'commander';
import { basename } from 'node:path';
import { geulError } from '../../core/errors.js';
import { startServer } from '../../server/start.js';
import { configFromCommand } from '../context.js';

interface ServeFlags {
  host?: string; port?: string; models?: string; default: string[]; auth?: string; tlsCert?: string; tlsKey?: string;
  workers?: string; corsOrigin: string[]; ui: boolean; allowHubModels?: boolean; cachedHubModels: boolean; queueSize?: string; maxBatch?: string;
  maxTextLength?: string; maxNewTokens?: string; bodyLimit?: string; batchMaxSize?: string; batchMaxWaitMs?: string;
  vectors: string[]; vectorsLimit?: string; withWorker?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function defaults(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw geulError('INVALID_CONFIG', { detail: `--default expects TASK=MODEL, got "${pair}"` });
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** `--vectors NAME=FILE` (or just FILE, named after it) → config `server.vectors` entries. */
function vectorSets(specs: string[], limit?: string): Record<string, { path: string; limit?: string }> | undefined {
  if (specs.length === 0) return undefined;
  const out: Record<string, { path: string; limit?: string }> = {};
  for (const spec of specs) {
    const at = spec.indexOf('=');
    const path = at < 0 ? spec : spec.slice(at + 1);
    const name = at < 0 ? basename(path).replace(/(\.(bin|txt|vec|gz))+$/i, '') : spec.slice(0, at);
    if (name === '' || path === '') throw geulError('INVALID_CONFIG', { detail: `--vectors expects NAME=FILE or FILE, got "${spec}"` });
    out[name] = { path, ...(limit !== undefined && { limit }) };
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Start the HTTP API server (every task, OpenAI- and LibreTranslate-compatible routes, /docs)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; also GEUL_HOST)')
    .option('-p, --port <port>', 'port (default 8787; also GEUL_PORT)')
    .option('--models <dir>', 'serve every model folder in DIR under its folder name')
    .option('--default <task=model>', 'default model of a task (repeatable), e.g. embeddings=tiny-bert-embed', collect, [])
    .option('--auth <mode>', 'API keys: required, auto (required unless bound to loopback) or off')
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--workers <n>', 'inference worker threads (0 = auto)')
    .option('--cors-origin <origin>', 'allow this origin (repeatable)', collect, [])
    .option('--no-ui', 'serve the HTTP API only, without the web UI at /')
    .option('--allow-hub-models', 'let requests name any hub model id (downloaded on demand)')
    .option('--no-cached-hub-models', 'do not serve hub models from the cache (pulled ones) unless they are defaults')
    .option('--queue-size <n>', 'inference calls allowed to wait before 503')
    .option('--max-batch <n>', 'most inputs per request')
    .option('--max-text-length <n>', 'longest input text (characters)')
    .option('--max-new-tokens <n>', 'largest max_new_tokens a request may ask for')
    .option('--body-limit <bytes>', 'largest request body')
    .option('--batch-max-size <n>', 'micro-batching: most inputs per model call')
    .option('--batch-max-wait-ms <ms>', 'micro-batching: longest wait for company')
    .option('--vectors <name=file>', 'serve a word-vector file under /v1/words as NAME (repeatable; the first is the default; FILE may be hub:owner/name/path)', collect, [])
    .option('--vectors-limit <n>', 'load only the first N words of each --vectors file')
    .option('--with-worker', 'with --redis: also run jobs in this server (without it, it only enqueues them for `geul worker`)')
    .addHelpText('after', '\nExamples:\n  $ geul serve --models ./models --default embeddings=tiny-bert-embed\n  $ geul serve --host 0.0.0.0 --auth required --tls-cert cert.pem --tls-key key.pem\n  $ geul serve --vectors en=vectors.bin --vectors ko=ko.vec.gz --vectors-limit 400000\n')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const fromFile = configFromCommand(cmd).server;
      const server = Object.fromEntries(Object.entries({
        host: flags.host, port: flags.port, modelsDir: flags.models, auth: flags.auth, tlsCert: flags.tlsCert, tlsKey: flags.tlsKey,
        workers: flags.workers, queueSize: flags.queueSize, maxBatch: flags.maxBatch, maxTextLength: flags.maxTextLength,
        maxNewTokens: flags.maxNewTokens, bodyLimit: flags.bodyLimit, batchMaxSize: flags.batchMaxSize, batchMaxWaitMs: flags.batchMaxWaitMs,
        allowHubModels: flags.allowHubModels ? true : undefined,
        cachedHubModels: flags.cachedHubModels ? undefined : false,
        ui: flags.ui ? undefined : false,
        corsOrigins: flags.corsOrigin.length > 0 ? flags.corsOrigin : undefined,
        defaults: flags.default.length > 0 ? { ...fromFile.defaults, ...defaults(flags.default) } : undefined,
        vectors: flags.vectors.length > 0 ? { ...fromFile.vectors, ...vectorSets(flags.vectors, flags.vectorsLimit) } : undefined,
      }).filter(([, v]) => v !== undefined));
      const config = configFromCommand(cmd, { server, ...(flags.withWorker && { jobs: { withWorker: true } }) });
      const running = await startServer(config, {}, { handleSignals: true });
      const everywhere = /^(0\.0\.0\.0|\[::\]):/.test(running.bound) ? ', every interface' : '';
      const ui = config.server.ui ? `web UI: ${running.url}/; ` : '';
      process.stderr.write(`geul: serving on ${running.url} (bound to ${running.bound}${everywhere}; ${ui}docs: ${running.url}/docs)\n`);
    });
}
