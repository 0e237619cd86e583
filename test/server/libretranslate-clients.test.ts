// The LibreTranslate face as its published clients call it: JSON and form bodies, source "auto", /detect, /languages, api_key/apiKey.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const FR = 'Où est la gare ? Je dois prendre le train pour Lyon ce soir.';
const DE = 'Wo ist der Bahnhof? Ich muss heute Abend den Zug nach Berlin nehmen.';
const form = (fields: Record<string, string | string[]>) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) params.append(k, one);
  return params.toString();
};

describe('LibreTranslate face (open server, tiny M2M100)', () => {
  let app: FastifyInstance;
  before(async () => {
    const T = await fixturesDir();
    app = await buildServer(serverConfig({ modelsDir: T, defaults: { translate: 'tiny-m2m100' } }));
  });
  after(() => app.close());

  test('the web client body: q, source, target, format "text", alternatives 0, empty api_key', async () => {
    const res = await post(app, '/translate', { q: 'Hello', source: 'en', target: 'fr', format: 'text', alternatives: 0, api_key: '' });
    assert.equal(res.status, 200, res.body);
    assert.equal(typeof res.json().translatedText, 'string');
    assert.equal(res.json().detectedLanguage, undefined);
  });

  test('source "auto" detects first and answers detectedLanguage beside translatedText', async () => {
    const res = await post(app, '/translate', { q: FR, source: 'auto', target: 'en' });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as { translatedText: string; detectedLanguage: { language: string; confidence: number } };
    assert.equal(typeof body.translatedText, 'string');
    assert.equal(body.detectedLanguage.language, 'fr');
    assert.ok(body.detectedLanguage.confidence > 0 && body.detectedLanguage.confidence <= 100);
    const batch = await post(app, '/translate', { q: [FR, DE], source: 'auto', target: 'en' });
    assert.equal(batch.status, 200, batch.body);
    const many = batch.json() as { translatedText: string[]; detectedLanguage: { language: string }[] };
    assert.equal(many.translatedText.length, 2);
    assert.deepEqual(many.detectedLanguage.map((d) => d.language), ['fr', 'de']);
  });

  test('libretranslatepy: form bodies for translate (auto too), detect and a POST to /languages', async () => {
    const tr = await app.inject({ method: 'POST', url: '/translate', headers: FORM, payload: form({ q: DE, source: 'auto', target: 'en' }) });
    assert.equal(tr.statusCode, 200, tr.body);
    assert.equal((tr.json() as { detectedLanguage: { language: string } }).detectedLanguage.language, 'de');
    const det = await app.inject({ method: 'POST', url: '/detect', headers: FORM, payload: form({ q: FR }) });
    assert.equal(det.statusCode, 200, det.body);
    const candidates = det.json() as { language: string; confidence: number }[];
    assert.equal(candidates[0].language, 'fr');
    for (let i = 1; i < candidates.length; i++) assert.ok(candidates[i - 1].confidence >= candidates[i].confidence);
    const langs = await app.inject({ method: 'POST', url: '/languages', headers: FORM, payload: '' });
    assert.equal(langs.statusCode, 200, langs.body);
    const list = langs.json() as { code: string; name: string; targets: string[] }[];
    assert.ok(list.some((l) => l.code === 'fr' && l.name === 'French' && l.targets.includes('ko')));
    const get = await app.inject({ url: '/languages' });
    assert.deepEqual(get.json(), list);
  });

  test('/detect: one list per text for an array of q', async () => {
    const res = await post(app, '/detect', { q: [FR, DE, '역이 어디예요? 서울역에 가야 해요.'] });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual((JSON.parse(res.body) as { language: string }[][]).map((c) => c[0].language), ['fr', 'de', 'ko']);
  });

  test('undetectable or model-unsupported source → 400 naming it; alternatives → a clear 400', async () => {
    const none = await post(app, '/translate', { q: '123 !!', source: 'auto', target: 'en' });
    assert.equal(none.status, 400, none.body);
    assert.match(none.json().error!.message, /could not be detected/);
    // Basque: eld knows it, M2M100 does not.
    const eu = await post(app, '/translate', { q: 'Non dago tren geltokia? Gaur gauean Bilbora joan behar dut.', source: 'auto', target: 'en' });
    assert.equal(eu.status, 400, eu.body);
    assert.equal(eu.json().error!.code, 'UNKNOWN_LANGUAGE');
    assert.match(eu.json().error!.message, /"eu"/);
    const alt = await post(app, '/translate', { q: 'Hi', source: 'en', target: 'fr', alternatives: 3 });
    assert.equal(alt.status, 400);
    assert.match(alt.json().error!.message, /alternatives/);
  });
});

describe('LibreTranslate face with keys', () => {
  let app: FastifyInstance;
  let secret: string;
  before(async () => {
    const keys = KeyStore.open(mkdtempSync(join(tmpdir(), 'geul-lt-keys-')));
    secret = keys.create({ name: 'lt', scopes: ['tasks'] }).key;
    app = await buildServer(serverConfig({ auth: 'required' }), { keys });
  });
  after(() => app.close());

  test('api_key and apiKey in JSON and form bodies authenticate /detect; a wrong one is 401', async () => {
    for (const field of ['api_key', 'apiKey']) {
      assert.equal((await post(app, '/detect', { q: FR, [field]: secret })).status, 200, field);
      const viaForm = await app.inject({ method: 'POST', url: '/detect', headers: FORM, payload: form({ q: FR, [field]: secret }) });
      assert.equal(viaForm.statusCode, 200, `${field} (form): ${viaForm.body}`);
      assert.equal((await post(app, '/detect', { q: FR, [field]: 'geul_nope' })).status, 401, field);
    }
    assert.equal((await post(app, '/detect', { q: FR })).status, 401);
  });
});
