// What every route needs: config, inference, guard, metrics, word vectors, and the scope check used as a preHandler.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GeulConfig } from '../core/config.js';
import type { ApiKeyStore, Scope } from '../store/key-store.js';
import type { Guard } from './guard.js';
import type { Inference } from './inference.js';
import type { Metrics } from './metrics.js';
import type { WordSets } from './words.js';

export interface ServerContext {
  config: GeulConfig;
  inference: Inference;
  guard: Guard;
  metrics: Metrics;
  /** Word-vector sets for /v1/words (config `server.vectors`). */
  words: WordSets;
  /** The API key store when auth is on (the admin keys API and the guard use it). */
  keys: ApiKeyStore | undefined;
  requireScope(scope: Scope): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}
