// The admin keys API: create (the secret shown once), list, revoke and read a key's usage, on whichever store the
// server uses (SQLite, or Redis shared by every replica). Admin scope only; with auth off there are no keys to manage.
import type { FastifyInstance } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type, parseLoose, parseWith } from '../core/schema.js';
import { SCOPES, parseQuota, parseRate, utcDay, type ApiKey, type ApiKeyStore } from '../store/key-store.js';
import { clientSchema } from '../tasks/request.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';

const seconds = (iso: string | undefined) => (iso === undefined ? null : Math.floor(Date.parse(iso) / 1000));

const KeyObject = Type.Object({
  id: Type.String(), object: Type.Literal('api_key'), name: Type.String(), scopes: Type.Array(Type.Enum(SCOPES)),
  rate: Type.Union([Type.Object({ count: Type.Integer(), period_s: Type.Number() }), Type.Null()], { description: 'At most `count` requests per `period_s` (a token bucket)' }),
  quota: Type.Union([Type.Object({ amount: Type.Integer(), unit: Type.Enum(['chars', 'tokens']) }), Type.Null()], { description: 'Per UTC day' }),
  created_at: Type.Integer({ description: 'Unix seconds' }), revoked_at: Type.Union([Type.Integer(), Type.Null()]), last_used_at: Type.Union([Type.Integer(), Type.Null()]),
}, { description: 'An API key (never its secret)' });
const CreatedKey = Type.Intersect([KeyObject, Type.Object({ key: Type.String({ description: 'The secret: shown only in this answer, only its hash is stored' }) })]);
const KeyList = Type.Object({ object: Type.Literal('list'), data: Type.Array(KeyObject) });
const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\w .@-]+$', description: 'Unique among active keys' }),
  scopes: Type.Array(Type.Enum(SCOPES), { minItems: 1, default: ['tasks'] }),
  rate: Type.Optional(Type.String({ minLength: 1, description: 'e.g. "60/min" (periods: s, min, hour, day)', examples: ['60/min'] })),
  quota: Type.Optional(Type.String({ minLength: 1, description: 'e.g. "1000000chars/day" or "50000tokens/day"', examples: ['1000000chars/day'] })),
});
const IdParams = Type.Object({ id: Type.String() });
const UsageQuery = Type.Object({ day: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'UTC day YYYY-MM-DD; default today' })) });
const Usage = Type.Object({
  object: Type.Literal('key_usage'), key_id: Type.String(), day: Type.String(), used: Type.Integer({ description: 'Characters or tokens charged that day' }),
  quota: KeyObject.properties.quota, remaining: Type.Union([Type.Integer(), Type.Null()]),
});
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

export function keyJson(k: ApiKey) {
  return {
    id: k.id, object: 'api_key' as const, name: k.name, scopes: k.scopes,
    rate: k.rate ? { count: k.rate.count, period_s: k.rate.periodMs / 1000 } : null,
    quota: k.quota ? { amount: k.quota.amount, unit: k.quota.unit } : null,
    created_at: seconds(k.createdAt)!, revoked_at: seconds(k.revokedAt), last_used_at: seconds(k.lastUsedAt),
  };
}

export function registerKeyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const store = (): ApiKeyStore => {
    if (!ctx.guard.enabled || !ctx.keys) throw geulError('AUTH_DISABLED', { detail: 'start the server with --auth required to manage keys over HTTP' });
    return ctx.keys;
  };
  // The scope check first (it also screens before the body is read), then whether there are keys at all.
  const preHandler = [ctx.requireScope('admin'), async () => { store(); }];
  const known = async (id: string): Promise<ApiKey> => {
    const key = await store().get(id);
    if (!key) throw geulError('NOT_FOUND', { what: `API key "${id.slice(0, 64)}"` });
    return key;
  };

  app.post('/v1/keys', {
    preHandler,
    schema: { summary: 'Create an API key', description: 'Answers the secret once (`key`); only its hash is stored.', tags: ['keys'], body: clientSchema(CreateBody), response: { 201: CreatedKey, ...errors } },
  }, async (request, reply) => {
    const body = parseWith(CreateBody, request.body ?? {}, 'body');
    const { key, info } = await store().create({
      name: body.name, scopes: [...new Set(body.scopes)],
      rate: body.rate === undefined ? undefined : parseRate(body.rate), quota: body.quota === undefined ? undefined : parseQuota(body.quota),
    });
    return reply.status(201).send({ ...keyJson(info), key });
  });

  app.get('/v1/keys', {
    preHandler, schema: { summary: 'List API keys', description: 'Every key, revoked ones included, oldest first; never a secret.', tags: ['keys'], response: { 200: KeyList, ...errors } },
  }, async () => ({ object: 'list', data: (await store().list()).map(keyJson) }));

  app.delete('/v1/keys/:id', {
    preHandler,
    schema: { summary: 'Revoke an API key', description: 'Refused at once by every server sharing the store; revoking a revoked key answers it unchanged.', tags: ['keys'], params: IdParams, response: { 200: KeyObject, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    // Only an active key is revoked by id: revoke() would otherwise fall back to a key *named* like this id.
    if (!(await known(id)).revokedAt) await store().revoke(id);
    return keyJson(await known(id));
  });

  app.get('/v1/keys/:id/usage', {
    preHandler,
    schema: { summary: "A key's quota usage on one UTC day", tags: ['keys'], params: IdParams, querystring: UsageQuery, response: { 200: Usage, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const day = parseLoose(UsageQuery, request.query ?? {}, 'query').day ?? utcDay(Date.now());
    const key = await known(id);
    const used = await store().usage(id, day);
    return { object: 'key_usage', key_id: id, day, used, quota: keyJson(key).quota, remaining: key.quota ? Math.max(0, key.quota.amount - used) : null };
  });
}
