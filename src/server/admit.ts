// Admission of a task request: body shape, server limits, the task schema, model resolution and quota, in that order.
import type { FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { prepareRequest } from '../tasks/run.js';
import type { AnyTask } from '../tasks/types.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';
import { checkLimits, estimateTokens } from './guard.js';
import type { Viewer } from './models.js';
import { callerOf } from './routes-files.js';

export const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody, 500: ErrorBody, 503: ErrorBody };

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw geulError('INVALID_INPUT', { detail: 'the body must be a JSON object' });
  return body as Record<string, unknown>;
}

/** The fields the task's schema names: unknown ones (clients send extras) are ignored, never cloned or walked. */
export function knownFields(task: AnyTask, raw: Record<string, unknown>): Record<string, unknown> {
  const properties = (task.request as { properties?: Record<string, unknown> }).properties;
  if (!properties) return raw;
  const known: Record<string, unknown> = {};
  for (const name of Object.keys(properties)) if (Object.hasOwn(raw, name)) known[name] = raw[name];
  return known;
}

/** Validates a task request (limits first, then the task schema) and resolves its model; what it costs, uncharged. */
export function prepareTask(ctx: ServerContext, task: AnyTask, raw: Record<string, unknown>, viewer?: Viewer) {
  const chars = checkLimits(ctx.config, { inputs: raw.inputs, documents: raw.documents, maxNewTokens: raw.max_new_tokens });
  const { items, single, options } = prepareRequest(task, knownFields(task, raw));
  // A task's default max_new_tokens may exceed the server's limit; requests that did not ask get the limit.
  if (typeof options.max_new_tokens === 'number') options.max_new_tokens = Math.min(options.max_new_tokens, ctx.config.server.maxNewTokens);
  options.model = ctx.inference.catalog.resolve(task, options.model as string | undefined, viewer);
  const tokens = estimateTokens(chars, typeof options.max_new_tokens === 'number' ? options.max_new_tokens : 0);
  return { items, single, options, stream: raw.stream === true, chars, tokens };
}

/** Validates a task request (prepareTask) and charges the quota. */
export async function admitTask(ctx: ServerContext, request: FastifyRequest, task: AnyTask, raw: Record<string, unknown>) {
  const { items, single, options, stream, chars, tokens } = prepareTask(ctx, task, raw, callerOf(ctx, request));
  await ctx.guard.charge(request, chars, tokens);
  return { items, single, options, stream };
}
