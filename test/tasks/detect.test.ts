// The built-in language detector: FLORES-200 sentences per language (shared data), shapes, empty texts, the registry task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { detectLanguages, detectTask } from '../../src/tasks/detect.js';
import { runTask } from '../../src/tasks/run.js';
import { ModelStore } from '../../src/runtime/models.js';
import { loadConfig } from '../../src/core/config.js';
import { sharedDataPath } from '../helpers/shared-data.js';

/** FLORES-200 file stem → the ISO 639-1 code the detector answers. */
const FLORES_LANGUAGES: Record<string, string> = { eng_Latn: 'en', fra_Latn: 'fr', deu_Latn: 'de', spa_Latn: 'es', kor_Hang: 'ko', jpn_Jpan: 'ja', zho_Hans: 'zh' };

test('FLORES-200 devtest: the first sentences of each language are detected as that language', async (t) => {
  for (const [stem, code] of Object.entries(FLORES_LANGUAGES)) {
    const path = sharedDataPath(t, 'flores200-devtest', `${stem}.devtest`);
    if (!path) return;
    const sentences = readFileSync(path, 'utf8').split('\n').filter((s) => s.trim() !== '').slice(0, 10);
    for (const sentence of sentences) {
      const [best] = await detectLanguages(sentence);
      assert.equal(best?.language, code, `${stem}: ${sentence}`);
    }
  }
});

test('candidates come best first with confidences 0–100, at most top_k of them', async () => {
  const found = await detectLanguages('Où est la gare ? Je dois prendre le train pour Lyon ce soir.', 3);
  assert.equal(found[0].language, 'fr');
  assert.ok(found.length >= 1 && found.length <= 3);
  for (const c of found) assert.ok(c.confidence >= 0 && c.confidence <= 100, String(c.confidence));
  for (let i = 1; i < found.length; i++) assert.ok(found[i - 1].confidence >= found[i].confidence);
  assert.equal((await detectLanguages('Où est la gare ? Je dois prendre le train pour Lyon ce soir.', 1)).length, 1);
});

test('a text with nothing to detect gives an empty list', async () => {
  assert.deepEqual(await detectLanguages(''), []);
  assert.deepEqual(await detectLanguages('123 !! ...'), []);
});

test('the registry task loads no model and mirrors the input shape', async () => {
  assert.equal(detectTask.kind, null);
  const models = new ModelStore(loadConfig({ offline: true }));
  const one = (await runTask('detect', { inputs: 'Wo ist der Bahnhof? Ich muss den Zug nach Berlin nehmen.' }, { models })) as { language: string }[];
  assert.equal(one[0].language, 'de');
  const many = (await runTask('detect', { inputs: ['Where is the station? I need the train to London.', '역이 어디예요? 서울역에 가야 해요.'], top_k: 1 }, { models })) as { language: string }[][];
  assert.deepEqual(many.map((c) => c.map((x) => x.language)), [['en'], ['ko']]);
  await assert.rejects(runTask('detect', { inputs: 'x', top_k: 0 }, { models }), /INVALID_INPUT|top_k/);
});
