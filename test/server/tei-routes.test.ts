// The TEI face: /embed, /predict and /info answer in text-embeddings-inference's shapes (tiny fixture models).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

describe('TEI face', () => {
  let app: FastifyInstance;
  before(async () => {
    const T = await fixturesDir();
    app = await buildServer(serverConfig({ modelsDir: T, defaults: { embeddings: 'tiny-bert-embed', classify: 'tiny-bert-sentiment' } }));
  });
  after(() => app.close());

  test('POST /embed: a list of float vectors for one text or many, normalised unless asked not to', async () => {
    const one = await post(app, '/embed', { inputs: 'What is deep learning?' });
    assert.equal(one.status, 200, one.body);
    const [vector] = JSON.parse(one.body) as number[][];
    assert.ok(vector.length > 0 && vector.every((x) => typeof x === 'number'));
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-4);
    const many = JSON.parse((await post(app, '/embed', { inputs: ['a', 'b c'], normalize: false, truncate: true })).body) as number[][];
    assert.equal(many.length, 2);
    assert.equal(many[0].length, vector.length);
    assert.equal((await post(app, '/embed', { inputs: '' })).status, 400);
  });

  test('POST /predict: labels with scores best first; one list per text for a batch', async () => {
    const one = await post(app, '/predict', { inputs: 'a great film' });
    assert.equal(one.status, 200, one.body);
    const labels = JSON.parse(one.body) as { score: number; label: string }[];
    assert.ok(labels.length >= 2);
    assert.deepEqual(Object.keys(labels[0]).sort(), ['label', 'score']);
    assert.ok(labels[0].score >= labels[1].score);
    const many = JSON.parse((await post(app, '/predict', { inputs: ['a great film', 'a dull film'] })).body) as unknown[][];
    assert.equal(many.length, 2);
  });

  test('truncate: false refuses a text over the model window with 413 (both routes); absent or true truncates it', async () => {
    const info = (await app.inject({ url: '/info' })).json() as { max_input_length: number };
    const long = Array.from({ length: info.max_input_length + 10 }, () => 'film').join(' ');
    for (const route of ['/embed', '/predict']) {
      const refused = await post(app, route, { inputs: ['a short one', long], truncate: false });
      assert.equal(refused.status, 413, `${route}: ${refused.body}`);
      assert.match(refused.body, /inputs\[1\] has \d+ tokens, over the model's \d+/);
      assert.equal((await post(app, route, { inputs: ['a short one'], truncate: false })).status, 200, route);
      assert.equal((await post(app, route, { inputs: [long] })).status, 200, route);
      assert.equal((await post(app, route, { inputs: [long], truncate: true })).status, 200, route);
    }
  });

  test('GET /info: model id, max input length, batch limits', async () => {
    const res = await app.inject({ url: '/info' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.model_id, 'tiny-bert-embed');
    assert.ok(Number(body.max_input_length) > 0);
    assert.equal(typeof body.max_client_batch_size, 'number');
    assert.ok('embedding' in (body.model_type as object));
  });
});
