// The Fastify app factory: security plugins, body parsing, errors, metrics, OpenAPI, and every route. Usable with inject().
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { GeulConfig } from '../core/config.js';
import { geulError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logging.js';
import type { ApiKeyStore, Scope } from '../store/key-store.js';
import { KeyStore } from '../store/keys.js';
import { RedisKeyStore } from '../store/redis-keys.js';
import type { ServerContext } from './context.js';
import { installBodyParsers } from './body.js';
import { clientErrorHandler, installErrorHandling } from './errors.js';
import { Guard, authEnabled } from './guard.js';
import { Inference } from './inference.js';
import { Metrics } from './metrics.js';
import { registerOpenAIRoutes } from './routes-openai.js';
import { registerLibreTranslateRoutes } from './routes-libretranslate.js';
import { registerSystemRoutes } from './routes-system.js';
import { registerTeiRoutes } from './routes-tei.js';
import { registerUiRoutes } from './routes-ui.js';
import { registerTaskRoutes } from './routes-tasks.js';
import { registerJobRoutes } from './routes-jobs.js';
import { registerKeyRoutes } from './routes-keys.js';
import { registerWordRoutes } from './routes-words.js';
import { registerPlaygroundRoutes } from './routes-playground.js';
import { WordSets } from './words.js';

export interface ServerDeps {
  /** Key store; default (opened only when auth is on): Redis with config.redis, else the SQLite file under config.dataDir. */
  keys?: ApiKeyStore;
  /** Inference service; default: a worker pool built from the config. */
  inference?: Inference;
  logger?: Logger;
  /** Clock for rate limits and quotas (tests move it). */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    geul: ServerContext;
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function httpsOptions(config: GeulConfig): { key: Buffer; cert: Buffer } | undefined {
  const { tlsCert, tlsKey } = config.server;
  if (!tlsCert && !tlsKey) return undefined;
  if (!tlsCert || !tlsKey) throw geulError('INVALID_CONFIG', { detail: 'TLS needs both --tls-cert and --tls-key' });
  try {
    return { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) };
  } catch (err) {
    throw geulError('INVALID_CONFIG', { detail: `cannot read the TLS files: ${(err as Error).message}` });
  }
}

function createFastify(options: FastifyServerOptions & { https?: object }): FastifyInstance {
  try {
    return Fastify(options) as unknown as FastifyInstance;
  } catch (err) {
    // Node's TLS layer rejects an unreadable certificate, a non-PEM file or a key that does not match here.
    if (options.https) throw geulError('TLS_INVALID', { detail: String((err as Error).message).split('\n')[0] }, err);
    throw err;
  }
}

/** The key store the config names: in Redis mode every replica must share keys and counters, never one's SQLite. */
export async function openKeyStore(config: GeulConfig): Promise<ApiKeyStore> {
  return config.redis ? RedisKeyStore.open(config.redis, config.redisPrefix) : KeyStore.open(config.dataDir);
}

/** Builds the server (not listening). Closing it closes the worker pool and the key store it opened. */
export async function buildServer(config: GeulConfig, deps: ServerDeps = {}): Promise<FastifyInstance> {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const https = httpsOptions(config);
  const words = new WordSets(config, logger);
  const options: FastifyServerOptions = {
    loggerInstance: logger,
    bodyLimit: config.server.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    clientErrorHandler,
    ...(https ? { https } : {}),
  };
  const app = createFastify(options);

  const enabled = authEnabled(config);
  const ownKeys = !deps.keys && enabled ? await openKeyStore(config) : undefined;
  const keys = deps.keys ?? ownKeys;
  const metrics: Metrics = new Metrics(() => ({
    geul_queue_depth: { help: 'Inference requests waiting or running', value: inference.queueDepth },
    geul_workers: { help: 'Inference worker threads alive', value: inference.pool.stats.threads },
    geul_words_queue_depth: { help: 'Word-vector loads and queries waiting or running', value: words.queueDepth },
  }));
  const inference: Inference = deps.inference ?? new Inference(config, metrics);
  const guard = new Guard(enabled, keys, deps.now);
  // Each scope check a route declares as its preHandler also screens the request before its body is read (onRoute below).
  const scopeOf = new WeakMap<object, Scope>();
  const ctx: ServerContext = {
    config, inference, guard, metrics, words, keys,
    requireScope: (scope) => {
      const check = async (request: FastifyRequest): Promise<void> => guard.authorize(request, scope);
      scopeOf.set(check, scope);
      return check;
    },
  };
  app.decorate('geul', ctx);

  // One schema is the source: TypeBox validates in the handlers (parseWith), Fastify only reads schemas for OpenAPI.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installBodyParsers(app);
  installErrorHandling(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRoute', (route) => {
    const scope = [route.preHandler].flat().map((h) => (h ? scopeOf.get(h) : undefined)).find((s) => s !== undefined);
    if (scope) route.onRequest = [...[route.onRequest ?? []].flat(), async (request: FastifyRequest) => guard.screen(request, scope)];
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.recordRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  // Before the answer leaves, so a client that sees a 5xx also sees its quota untouched.
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 500) await guard.refund(request);
  });

  // Only over TLS: HSTS means nothing on plain HTTP, and upgrade-insecure-requests breaks pages served over it.
  await app.register(helmet, {
    global: true,
    strictTransportSecurity: https ? undefined : false,
    contentSecurityPolicy: https ? undefined : { directives: { upgradeInsecureRequests: null } },
  });
  if (config.server.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.server.corsOrigins, methods: ['GET', 'POST', 'DELETE'], allowedHeaders: ['content-type', 'authorization', 'x-request-id'] });
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'geul HTTP API', version: '0.1.0', description: 'Local-first NLP: every geul task over HTTP, word-vector queries, plus OpenAI- and LibreTranslate-compatible routes. Errors are `{error: {code, message}}` (codes in docs/errors.md).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from `geul keys create`' } } },
      ...(enabled ? { security: [{ bearer: [] }] } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerSystemRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerOpenAIRoutes(app, ctx);
  registerLibreTranslateRoutes(app, ctx);
  registerTeiRoutes(app, ctx);
  registerWordRoutes(app, ctx);
  registerPlaygroundRoutes(app, ctx);
  await registerJobRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  if (config.server.ui) await registerUiRoutes(app);
  words.preload();

  // Graceful shutdown: answers still in flight close their keep-alive connection, so close() is not held open by idle sockets.
  let draining: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    draining = setInterval(() => app.server.closeIdleConnections?.(), 100);
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => {
    clearInterval(draining);
    await inference.close();
    words.close();
    metrics.close();
    await ownKeys?.close();
  });
  return app;
}
