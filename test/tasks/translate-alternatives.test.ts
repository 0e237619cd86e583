// The translate task's n-best list (`alternatives`): through the library API on the tiny M2M100, and its text rule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGeul, isGeulError, type Geul } from '../../src/index.js';
import { distinctTranslations, MAX_ALTERNATIVES } from '../../src/tasks/translate.js';
import { fixturesDir } from '../helpers/fixtures.js';

let geul: Geul;
let model: string;

before(async () => {
  model = join(await fixturesDir(), 'tiny-m2m100');
  geul = createGeul({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'geul-cache-')) });
});
after(() => geul.dispose());

test('alternatives: up to N other translations, distinct, none equal to the answer; the answer is the beam of N+1', async () => {
  const texts = ['where is the train station', 'good morning'];
  const out = await geul.translate(texts, { model, from: 'en', to: 'de', max_new_tokens: 6, alternatives: 3 });
  const beam = await geul.translate(texts, { model, from: 'en', to: 'de', max_new_tokens: 6, num_beams: 4 });
  assert.equal(out.length, 2);
  out.forEach((result, i) => {
    assert.equal(result.text, beam[i].text, 'alternatives 3 searches with 4 beams');
    assert.equal(beam[i].alternatives, undefined, 'no list unless asked for');
    const alts = result.alternatives ?? [];
    assert.ok(alts.length >= 1 && alts.length <= 3, `${alts.length} alternatives`);
    assert.equal(new Set([result.text, ...alts]).size, alts.length + 1, 'all different');
    assert.ok(alts.every((a) => a.length > 0));
  });
  const empty = await geul.translate('  ', { model, from: 'en', to: 'de', alternatives: 2 });
  assert.deepEqual(empty, { text: '', alternatives: [] });
});

test(`alternatives above ${MAX_ALTERNATIVES} are refused naming the field`, async () => {
  await assert.rejects(geul.translate('hello', { model, from: 'en', to: 'fr', alternatives: MAX_ALTERNATIVES + 1 }),
    (err: unknown) => isGeulError(err) && err.code === 'INVALID_INPUT' && /alternatives/.test(err.message));
});

test('distinctTranslations keeps the order, drops repeats, empties and the answer itself, and stops at N', () => {
  assert.deepEqual(distinctTranslations(['a', 'b', 'a', '', 'c', 'b', 'd'], 2), { text: 'a', alternatives: ['b', 'c'] });
  assert.deepEqual(distinctTranslations(['a', 'a'], 3), { text: 'a', alternatives: [] });
  assert.deepEqual(distinctTranslations([], 1), { text: '', alternatives: [] });
});
