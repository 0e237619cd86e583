// POST /v1/playground/train: XOR solved by the MLP and not by the perceptron, a closed stream stops the run, 400s name the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { PLAYGROUND_MAX_RUNS } from '../../src/server/routes-playground.js';
import { KeyStore } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';

interface Event {
  dataset?: { x: number[]; y: number[] };
  step?: number;
  loss?: number;
  accuracy?: number;
  grid?: number[];
  done?: boolean;
  error?: { code: string; message: string };
}

const events = (body: string): Event[] =>
  body.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)) as Event);

const metric = async (app: FastifyInstance, name: string): Promise<number> => {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
};

describe('playground training stream', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer(serverConfig());
  });
  after(() => app.close());

  const train = async (body: Record<string, unknown>) => {
    const res = await post(app, '/v1/playground/train', body);
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    return events(res.body);
  };

  test('XOR: the MLP reaches ≥ 95 % within the step limit, the perceptron stays ≤ 75 %', async () => {
    const spec = { dataset: 'xor', seed: 3, steps: 400, every: 100, grid: 20 };
    const mlp = await train({ ...spec, model: 'mlp', layers: 1, width: 8 });
    assert.equal(mlp[0].dataset?.x.length, 400, 'first event: the 200 points');
    assert.equal(mlp[0].dataset?.y.length, 200);
    const progress = mlp.filter((e) => e.step !== undefined && !e.done);
    assert.deepEqual(progress.map((e) => e.step), [0, 100, 200, 300, 400]);
    for (const e of progress) assert.equal(e.grid?.length, 400);
    const end = mlp.at(-1) as Event;
    assert.equal(end.done, true);
    assert.ok((end.accuracy as number) >= 0.95, `MLP accuracy ${end.accuracy}`);
    assert.ok((end.loss as number) < (progress[0].loss as number), 'the loss fell');
    // The boundary is XOR's: P(class 1) high in the (+,+) and (−,−) corners, low in the other two.
    const g = end.grid as number[];
    const corner = (r: number, c: number) => g[r * 20 + c];
    assert.ok(corner(0, 19) > 0.5 && corner(19, 0) > 0.5, 'top-right and bottom-left are class 1');
    assert.ok(corner(0, 0) < 0.5 && corner(19, 19) < 0.5, 'top-left and bottom-right are class 0');
    const perceptron = (await train({ ...spec, model: 'perceptron' })).at(-1) as Event;
    assert.equal(perceptron.done, true);
    assert.ok((perceptron.accuracy as number) <= 0.75, `perceptron accuracy ${perceptron.accuracy}`);
  });

  test('every data set trains and reports probabilities in [0, 1]', async () => {
    for (const dataset of ['circles', 'spirals', 'moons']) {
      const end = (await train({ dataset, steps: 20, every: 10, grid: 8, activation: 'relu', optimizer: 'sgd', lr: 0.1 })).at(-1) as Event;
      assert.equal(end.done, true, dataset);
      assert.ok((end.grid as number[]).every((p) => p >= 0 && p <= 1), dataset);
    }
    const circles = (await train({ dataset: 'circles', steps: 400, every: 400, grid: 8 })).at(-1) as Event;
    assert.ok((circles.accuracy as number) >= 0.95, `circles accuracy ${circles.accuracy}`);
  });

  test('a bad request is a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ steps: 100_000 }, 'steps'], [{ width: 0 }, 'width'], [{ layers: 7 }, 'layers'], [{ dataset: 'mnist' }, 'dataset'],
      [{ activation: 'gelu' }, 'activation'], [{ lr: 0 }, 'lr'], [{ batch_size: 'many' }, 'batch_size'],
    ] as const) {
      const res = await post(app, '/v1/playground/train', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json().error?.code, 'INVALID_INPUT');
      assert.match(res.json().error?.message ?? '', new RegExp(field), JSON.stringify(body));
    }
  });

  test('OpenAPI documents the route from its request schema', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } } }> };
    const body = doc.paths['/v1/playground/train']?.post?.requestBody?.content['application/json'].schema;
    assert.deepEqual(Object.keys(body?.properties ?? {}).sort(), ['activation', 'batch_size', 'dataset', 'every', 'grid', 'layers', 'lr', 'model', 'noise', 'optimizer', 'points', 'seed', 'steps', 'width']);
  });

  test('closing the stream stops the run', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const before = await metric(app, 'geul_playground_steps_total');
    const abort = new AbortController();
    const res = await fetch(`${address}/v1/playground/train`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: abort.signal,
      body: JSON.stringify({ steps: 5000, every: 1, grid: 8 }),
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while ((text.match(/"step"/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    assert.equal(await metric(app, 'geul_playground_runs'), 1, 'the run is going');
    abort.abort();
    // The server notices the closed socket and stops at its next step: wait for that (bounded), never for a time.
    for (let i = 0; i < 200 && (await metric(app, 'geul_playground_runs')) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await metric(app, 'geul_playground_runs'), 0, 'the run stopped');
    const taken = (await metric(app, 'geul_playground_steps_total')) - before;
    assert.ok(taken < 5000, `stopped after ${taken} of 5000 steps`);
  });

  test('one run per client: a second run from the same client stops the first', async () => {
    const address = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const open = () => fetch(`${address}/v1/playground/train`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ steps: 5000, every: 5, grid: 8 }),
    });
    const first = await open();
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"step"')) text += new TextDecoder().decode((await reader.read()).value);
    const second = await open();
    assert.equal(second.status, 200);
    // The first stream ends, told why, while the second one trains.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const last = events(text).at(-1) as Event & { stopped?: string };
    assert.match(last.stopped ?? '', /newer run/);
    assert.equal(await metric(app, 'geul_playground_runs'), 1);
    await second.body?.cancel();
    for (let i = 0; i < 200 && (await metric(app, 'geul_playground_runs')) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await metric(app, 'geul_playground_runs'), 0);
  });
});

test('at most PLAYGROUND_MAX_RUNS runs at once on the server: one more client gets 503 OVERLOADED', async () => {
  const keys = new KeyStore(':memory:');
  const secrets = Array.from({ length: PLAYGROUND_MAX_RUNS + 1 }, (_, i) => keys.create({ name: `k${i}`, scopes: ['tasks'] }).key);
  const app = await buildServer(serverConfig({ auth: 'required' }), { keys });
  const stop = new AbortController();
  try {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = (key: string) => fetch(`${address}/v1/playground/train`, {
      method: 'POST', signal: stop.signal, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ steps: 5000, every: 1000, grid: 8 }),
    });
    const running = [];
    for (const key of secrets.slice(0, PLAYGROUND_MAX_RUNS)) running.push(await open(key));
    assert.deepEqual(running.map((r) => r.status), running.map(() => 200));
    const refused = await open(secrets[PLAYGROUND_MAX_RUNS]);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as Event).error?.code, 'OVERLOADED');
  } finally {
    stop.abort();
    await app.close();
    keys.close();
  }
});

test('the playground needs the tasks scope when auth is on', async () => {
  const keys = new KeyStore(':memory:');
  const tasks = keys.create({ name: 'tasks', scopes: ['tasks'] }).key;
  const jobs = keys.create({ name: 'jobs', scopes: ['jobs'] }).key;
  const app = await buildServer(serverConfig({ auth: 'required' }), { keys });
  try {
    const body = { steps: 5, every: 5, grid: 8 };
    assert.equal((await post(app, '/v1/playground/train', body)).status, 401);
    assert.equal((await post(app, '/v1/playground/train', body, { authorization: `Bearer ${jobs}` })).status, 403);
    const res = await post(app, '/v1/playground/train', body, { authorization: `Bearer ${tasks}` });
    assert.equal(res.status, 200, res.body);
    assert.equal(events(res.body).at(-1)?.done, true);
  } finally {
    await app.close();
    keys.close();
  }
});
