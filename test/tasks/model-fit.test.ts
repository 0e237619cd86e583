// Every task refuses a model that cannot do it (TASK_NOT_SUPPORTED, decided from config.json and the ONNX outputs),
// and every task handles an empty text as its schema says, through the library on the tiny fixture models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGeul, isGeulError, type Geul } from '../../src/index.js';
import { fixturesDir } from '../helpers/fixtures.js';

let T: string;
let geul: Geul;
const m = (name: string) => join(T, name);

async function rejectsWith(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isGeulError(err), `${what}: expected a GeulError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

before(async () => {
  T = await fixturesDir();
  geul = createGeul({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'geul-cache-')) });
});
after(() => geul.dispose());

const FIXTURES = ['tiny-bert-sentiment', 'tiny-bert-embed', 'tiny-bert-mlm', 'tiny-gpt2', 'tiny-m2m100'];

/** Each task run once with a model; the fixture that fits it is left out below. */
const calls: Record<string, [fits: string, run: (model: string) => Promise<unknown>]> = {
  generate: ['tiny-gpt2', (model) => geul.generate('hello', { model, max_new_tokens: 2 })],
  classify: ['tiny-bert-sentiment', (model) => geul.classify('hello', { model })],
  embeddings: ['tiny-bert-embed', (model) => geul.embed('hello', { model })],
  similarity: ['tiny-bert-embed', (model) => geul.similarity('a cat', 'a dog', { model })],
  search: ['tiny-bert-embed', (model) => geul.search('cat', ['a cat', 'a car'], { model })],
  translate: ['tiny-m2m100', (model) => geul.translate('hello', { model, from: 'en', to: 'fr', max_new_tokens: 2 })],
  'fill-mask': ['tiny-bert-mlm', (model) => geul.fillMask('hello [MASK] world', { model })],
};

describe('a model that cannot do the task is TASK_NOT_SUPPORTED, for every task', () => {
  for (const [task, [fits, run]] of Object.entries(calls)) {
    test(task, async () => {
      await run(m(fits));
      for (const other of FIXTURES.filter((f) => f !== fits)) await rejectsWith(run(m(other)), 'TASK_NOT_SUPPORTED', `${task} with ${other}`);
    });
  }

  test('the error names the model and the task', async () => {
    await assert.rejects(geul.embed('x', { model: m('tiny-gpt2') }), /cannot do task "embeddings"/);
    await assert.rejects(geul.fillMask('x [MASK]', { model: m('tiny-bert-embed') }), /cannot do task "fill-mask".*not a masked language model/);
    // A BertForMaskedLM config may still be a sentence-embedding export; the loaded graph's outputs decide.
    await assert.rejects(geul.embed('x', { model: m('tiny-bert-mlm') }), /cannot do task "embeddings".*not token vectors/);
  });
});

describe('empty texts, as each schema documents', () => {
  test('generate: an empty prompt starts from the beginning-of-text token, alone or in a batch', async () => {
    const one = await geul.generate('', { model: m('tiny-gpt2'), max_new_tokens: 4 });
    assert.equal(typeof one.text, 'string');
    assert.ok(one.tokens <= 4);
    const batch = await geul.generate(['hello', ''], { model: m('tiny-gpt2'), max_new_tokens: 4 });
    assert.equal(batch.length, 2);
    assert.deepEqual(batch[1], one);
    let streamed = '';
    const it = geul.streamGenerate('', { model: m('tiny-gpt2'), max_new_tokens: 4 });
    let step = await it.next();
    while (!step.done) {
      streamed += step.value;
      step = await it.next();
    }
    assert.equal(streamed, one.text);
  });

  test('classify: an empty text is classified like any other', async () => {
    const labels = await geul.classify('', { model: m('tiny-bert-sentiment') });
    assert.equal(labels.length, 2);
  });

  test('translate: an empty text translates to an empty text', async () => {
    assert.deepEqual((await geul.translate(['', 'hello'], { model: m('tiny-m2m100'), from: 'en', to: 'fr', max_new_tokens: 2 }))[0], { text: '' });
    assert.deepEqual(await geul.translate('  ', { model: m('tiny-m2m100'), from: 'en', to: 'fr' }), { text: '' });
  });

  test('embeddings, similarity, search and fill-mask refuse an empty text with INVALID_INPUT', async () => {
    await rejectsWith(geul.embed('', { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'embed');
    await rejectsWith(geul.embed(['a', ''], { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'embed batch');
    await rejectsWith(geul.similarity('', 'a', { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'similarity');
    await rejectsWith(geul.similarityMatrix(['a', ''], { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'matrix');
    await rejectsWith(geul.search('', ['a'], { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'search query');
    await rejectsWith(geul.search('a', ['b', ''], { model: m('tiny-bert-embed') }), 'INVALID_INPUT', 'search document');
    await rejectsWith(geul.fillMask('', { model: m('tiny-bert-mlm') }), 'INVALID_INPUT', 'fill-mask');
  });
});
