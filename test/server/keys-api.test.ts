// The admin keys API (inject), on the SQLite store and on Redis: the secret once, list, revoke, usage; admin scope
// only; invalid bodies name the field; with auth off a catalogued 409.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import type { ApiKeyStore } from '../../src/store/key-store.js';
import { KeyStore } from '../../src/store/keys.js';
import { RedisKeyStore } from '../../src/store/redis-keys.js';
import { openRedis } from '../../src/store/redis.js';
import { redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { post, serverConfig } from '../helpers/server.js';
import { keySecret } from '../helpers/keys.js';

type Body = Record<string, unknown> & { error?: { code: string; message: string }; data?: Record<string, unknown>[] };

const backends: Record<string, (t: TestContext) => Promise<{ store: ApiKeyStore; cleanup(): Promise<void> } | undefined>> = {
  sqlite: async () => {
    const store = new KeyStore(':memory:');
    return { store, cleanup: async () => store.close() };
  },
  redis: async (t) => {
    const url = await redisUrl(t);
    if (!url) return undefined;
    const prefix = uniqueRedisPrefix();
    const store = await RedisKeyStore.open(url, prefix);
    return {
      store,
      cleanup: async () => {
        await store.close();
        const raw = await openRedis(url);
        const keys = await raw.keys(`${prefix}:*`);
        if (keys.length > 0) await raw.del(...keys);
        raw.disconnect();
      },
    };
  },
};

async function call(app: FastifyInstance, method: 'GET' | 'DELETE', url: string, key?: string) {
  const res = await app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.statusCode, json: () => JSON.parse(res.body) as Body };
}

for (const [backend, open] of Object.entries(backends)) {
  test(`${backend}: an admin creates, lists, reads the usage of and revokes keys over HTTP`, async (t) => {
    const opened = await open(t);
    if (!opened) return;
    const { store } = opened;
    const root = (await store.create({ name: 'root', scopes: ['admin'] })).key;
    const app = await buildServer(serverConfig({ auth: 'required' }), { keys: store });
    try {
      const auth = { authorization: `Bearer ${root}` };
      const created = await post(app, '/v1/keys', { name: 'ci', scopes: ['tasks'], quota: '1000chars/day', rate: '100/min' }, auth);
      assert.equal(created.status, 201, created.body);
      const body = created.json();
      assert.match(String(body.key), /^geul_[A-Za-z0-9]{12}_/);
      assert.deepEqual({ ...body, key: undefined, id: undefined, created_at: undefined }, {
        object: 'api_key', name: 'ci', scopes: ['tasks'], rate: { count: 100, period_s: 60 }, quota: { amount: 1000, unit: 'chars' },
        revoked_at: null, last_used_at: null, key: undefined, id: undefined, created_at: undefined,
      });
      const ciKey = String(body.key);
      const id = String(body.id);

      // The new key works at once, and its use is charged to its quota.
      const detected = await post(app, '/v1/detect', { inputs: ['Où est la gare ?', 'Where is the station?'] }, { authorization: `Bearer ${ciKey}` });
      assert.equal(detected.status, 200, detected.body);
      const usage = await call(app, 'GET', `/v1/keys/${id}/usage`, root);
      assert.equal(usage.status, 200);
      assert.deepEqual({ ...usage.json(), day: undefined }, { object: 'key_usage', key_id: id, day: undefined, used: 37, quota: { amount: 1000, unit: 'chars' }, remaining: 963 });
      assert.equal((await call(app, 'GET', `/v1/keys/${id}/usage?day=2020-01-01`, root)).json().used, 0);
      assert.match((await call(app, 'GET', `/v1/keys/${id}/usage?day=yesterday`, root)).json().error!.message, /query\.day/);

      const list = await call(app, 'GET', '/v1/keys', root);
      assert.deepEqual(list.json().data!.map((k) => k.name), ['root', 'ci']);
      assert.equal(typeof list.json().data![1].last_used_at, 'number', 'the use was recorded');
      assert.ok(!JSON.stringify(list.json()).includes(keySecret(ciKey)), 'no secret in the list');

      const revoked = await call(app, 'DELETE', `/v1/keys/${id}`, root);
      assert.equal(revoked.status, 200);
      assert.equal(typeof revoked.json().revoked_at, 'number');
      assert.equal((await call(app, 'DELETE', `/v1/keys/${id}`, root)).status, 200, 'revoking twice answers the revoked key');
      assert.equal((await post(app, '/v1/detect', { inputs: ['x'] }, { authorization: `Bearer ${ciKey}` })).status, 401);
      assert.equal((await call(app, 'DELETE', '/v1/keys/nosuchkey123', root)).status, 404);
      assert.equal((await call(app, 'GET', '/v1/keys/nosuchkey123/usage', root)).json().error!.code, 'NOT_FOUND');
    } finally {
      await app.close();
      await opened.cleanup();
    }
  });

  test(`${backend}: only admin keys manage keys; bad bodies are 400 naming the field; a taken name is refused`, async (t) => {
    const opened = await open(t);
    if (!opened) return;
    const { store } = opened;
    const root = (await store.create({ name: 'root', scopes: ['admin'] })).key;
    const user = (await store.create({ name: 'user', scopes: ['tasks', 'jobs'] })).key;
    const app = await buildServer(serverConfig({ auth: 'required' }), { keys: store });
    try {
      assert.equal((await post(app, '/v1/keys', { name: 'x' })).status, 401);
      const forbidden = await post(app, '/v1/keys', { name: 'x' }, { authorization: `Bearer ${user}` });
      assert.equal(forbidden.status, 403);
      assert.match(forbidden.json().error!.message, /"admin" scope/);
      for (const [method, url] of [['GET', '/v1/keys'], ['DELETE', '/v1/keys/abc'], ['GET', '/v1/keys/abc/usage']] as const) {
        assert.equal((await call(app, method, url, user)).status, 403, `${method} ${url}`);
      }
      const auth = { authorization: `Bearer ${root}` };
      const cases: [unknown, RegExp][] = [
        [{ name: 'x', scopes: ['root'] }, /body\.scopes\.0/],
        [{ name: 'x', scopes: [] }, /body\.scopes/],
        [{ scopes: ['tasks'] }, /body.*name/],
        [{ name: 'a/b' }, /body\.name/],
        [{ name: 'x', rate: 'fast' }, /rate "fast"/],
        [{ name: 'x', quota: '10/day' }, /quota "10\/day"/],
        [{ name: 'root' }, /already named "root"/],
      ];
      for (const [body, message] of cases) {
        const res = await post(app, '/v1/keys', body, auth);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.json().error!.code, 'INVALID_INPUT');
        assert.match(res.json().error!.message, message);
      }
      const defaults = await post(app, '/v1/keys', { name: 'plain' }, auth);
      assert.deepEqual([defaults.json().scopes, defaults.json().rate, defaults.json().quota], [['tasks'], null, null]);
      assert.equal((await store.list()).length, 3, 'only the valid request made a key');
    } finally {
      await app.close();
      await opened.cleanup();
    }
  });
}

test('with auth off the keys API answers 409 AUTH_DISABLED, and OpenAPI documents the routes', async () => {
  const app = await buildServer(serverConfig({ auth: 'off' }));
  try {
    const created = await post(app, '/v1/keys', { name: 'x' });
    assert.equal(created.status, 409);
    assert.equal(created.json().error!.code, 'AUTH_DISABLED');
    assert.match(created.json().error!.message, /--auth required/);
    for (const [method, url] of [['GET', '/v1/keys'], ['DELETE', '/v1/keys/abc'], ['GET', '/v1/keys/abc/usage']] as const) {
      assert.equal((await call(app, method, url)).json().error?.code, 'AUTH_DISABLED', `${method} ${url}`);
    }
    const spec = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(spec.paths['/v1/keys']).sort(), ['get', 'post']);
    const create = spec.paths['/v1/keys'].post as { requestBody: { content: Record<string, { schema: { required?: string[] } }> } };
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['name'], 'scopes has a default');
    assert.ok(spec.paths['/v1/keys/{id}'].delete);
    assert.ok(spec.paths['/v1/keys/{id}/usage'].get);
  } finally {
    await app.close();
  }
});
