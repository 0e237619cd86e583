// POST /v1/playground/sequence: the LSTM and the GRU beat the plain RNN on a 20 … 40-token first-token task, the events
// in order, 400s naming the field, and one run per client across both playgrounds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { post, serverConfig } from '../helpers/server.js';

interface Score { loss: number; accuracy: number }
interface Event {
  cells?: string[];
  length?: number;
  step?: number;
  rnn?: Score;
  lstm?: Score;
  gru?: Score;
  done?: boolean;
  stopped?: string;
  error?: { code: string; message: string };
}

const events = (body: string): Event[] =>
  body.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)) as Event);

describe('playground sequence race', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer(serverConfig());
  });
  after(() => app.close());

  test('at 20 … 40 tokens the LSTM and the GRU reach ≥ 95 % while the plain RNN stays near chance', async () => {
    const res = await post(app, '/v1/playground/sequence', { length: 40, steps: 150, every: 50, seed: 1 });
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    const all = events(res.body);
    assert.deepEqual(all[0], { cells: ['rnn', 'lstm', 'gru'], length: 40 });
    const progress = all.filter((e) => e.step !== undefined && !e.done);
    assert.deepEqual(progress.map((e) => e.step), [0, 50, 100, 150]);
    for (const e of progress) for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      const s = e[cell] as Score;
      assert.ok(s.accuracy >= 0 && s.accuracy <= 1 && s.loss >= 0, `${cell} at ${e.step}: ${JSON.stringify(s)}`);
    }
    const end = all.at(-1) as Event;
    assert.equal(end.done, true);
    assert.equal(end.step, 150);
    assert.ok((end.lstm as Score).accuracy >= 0.95, `LSTM ${end.lstm?.accuracy}`);
    assert.ok((end.gru as Score).accuracy >= 0.95, `GRU ${end.gru?.accuracy}`);
    assert.ok((end.rnn as Score).accuracy < 0.75, `RNN ${end.rnn?.accuracy}`);
  });

  test('a bad request is a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ length: 51 }, 'length'], [{ length: 4 }, 'length'], [{ hidden: 64 }, 'hidden'], [{ steps: 601 }, 'steps'],
      [{ lr: 0 }, 'lr'], [{ batch_size: 65 }, 'batch_size'], [{ seed: -1 }, 'seed'],
    ] as const) {
      const res = await post(app, '/v1/playground/sequence', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json().error?.code, 'INVALID_INPUT');
      assert.match(res.json().error?.message ?? '', new RegExp(field), JSON.stringify(body));
    }
  });

  test('OpenAPI documents the route from its request schema', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } } }> };
    const body = doc.paths['/v1/playground/sequence']?.post?.requestBody?.content['application/json'].schema;
    assert.deepEqual(Object.keys(body?.properties ?? {}).sort(), ['batch_size', 'every', 'hidden', 'length', 'lr', 'seed', 'steps']);
  });

  test('one run per client across both playgrounds: a sequence race stops the 2-D run', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const open = (path: string, body: object) => fetch(`${address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const first = await open('/v1/playground/train', { steps: 5000, every: 5, grid: 8 });
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"step"')) text += new TextDecoder().decode((await reader.read()).value);
    const race = await open('/v1/playground/sequence', { length: 6, hidden: 4, steps: 5, every: 5 });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(events(text).at(-1)?.stopped ?? '', /newer run/);
    assert.equal(race.status, 200);
    const raced = events(await race.text());
    assert.equal(raced.at(-1)?.done, true);
    assert.equal(raced.at(-1)?.step, 5);
  });
});
