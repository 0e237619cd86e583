// Every pretrained task and option through the library API, on the tiny random-weight fixture models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createGeul, isGeulError, type Geul } from '../../src/index.js';
import { fixturesDir } from '../helpers/fixtures.js';

let T: string;
let geul: Geul;
const m = (name: string) => join(T, name);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isGeulError(err), `expected a GeulError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

before(async () => {
  T = await fixturesDir();
  geul = createGeul({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'geul-cache-')) });
});
after(() => geul.dispose());

describe('classify', () => {
  test('one text gives labels with probabilities, best first', async () => {
    const labels = await geul.classify('a great film', { model: m('tiny-bert-sentiment') });
    assert.deepEqual(labels.map((l) => l.label).sort(), ['NEGATIVE', 'POSITIVE']);
    assert.ok(Math.abs(labels[0].score + labels[1].score - 1) < 1e-5);
    assert.ok(labels[0].score >= labels[1].score);
  });

  test('a batch gives one result per text, equal to single runs (padding is masked)', async () => {
    const texts = ['a great film', 'a really very long and rather boring film about nothing at all', '정말 재미있다'];
    const batch = await geul.classify(texts, { model: m('tiny-bert-sentiment') });
    assert.equal(batch.length, 3);
    for (let i = 0; i < texts.length; i++) {
      const single = await geul.classify(texts[i], { model: m('tiny-bert-sentiment') });
      assert.ok(Math.abs(single[0].score - batch[i][0].score) < 1e-4);
    }
  });

  test('top_k limits the labels', async () => {
    assert.equal((await geul.classify('good', { model: m('tiny-bert-sentiment'), top_k: 1 })).length, 1);
  });

  test('long texts: chunk equals truncate for short texts and averages windows for long ones', async () => {
    const short = await geul.classify('short text', { model: m('tiny-bert-sentiment'), long_text: 'chunk' });
    const shortT = await geul.classify('short text', { model: m('tiny-bert-sentiment') });
    assert.ok(Math.abs(short[0].score - shortT[0].score) < 1e-5);
    const long = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 'great' : i % 3 === 1 ? 'bad film' : 'the movie')).join(' ');
    const chunked = await geul.classify(long, { model: m('tiny-bert-sentiment'), long_text: 'chunk' });
    const truncated = await geul.classify(long, { model: m('tiny-bert-sentiment'), long_text: 'truncate' });
    assert.ok(Math.abs(chunked[0].score + chunked[1].score - 1) < 1e-5);
    assert.notEqual(chunked.find((l) => l.label === 'POSITIVE')!.score, truncated.find((l) => l.label === 'POSITIVE')!.score);
  });

  test('invalid options are rejected by the schema', async () => {
    await rejectsWith(geul.classify('x', { model: m('tiny-bert-sentiment'), top_k: 0 }), 'INVALID_INPUT');
    await rejectsWith(geul.classify([] as string[], { model: m('tiny-bert-sentiment') }), 'INVALID_INPUT');
  });
});

describe('embeddings, similarity and search', () => {
  test('normalised mean-pooled vectors; batch equals single', async () => {
    const [a, b] = await geul.embed(['one', 'two words here'], { model: m('tiny-bert-embed') });
    const norm = Math.hypot(...a);
    assert.ok(Math.abs(norm - 1) < 1e-4);
    const single = await geul.embed('two words here', { model: m('tiny-bert-embed') });
    single.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4));
  });

  test('pooling and normalize options change the vectors', async () => {
    const mean = await geul.embed('a cat sat', { model: m('tiny-bert-embed') });
    const cls = await geul.embed('a cat sat', { model: m('tiny-bert-embed'), pooling: 'cls' });
    const raw = await geul.embed('a cat sat', { model: m('tiny-bert-embed'), normalize: false });
    assert.notDeepEqual(mean, cls);
    assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3);
  });

  test('similarity of a text with itself is 1; the matrix is symmetric', async () => {
    const same = await geul.similarity('a cat', 'a cat', { model: m('tiny-bert-embed') });
    assert.ok(Math.abs(same.score - 1) < 1e-5);
    const other = await geul.similarity('a cat', 'a dog', { model: m('tiny-bert-embed') });
    assert.ok(other.score <= 1 && other.score >= -1);
    const matrix = await geul.similarityMatrix(['a', 'b c', '영화'], { model: m('tiny-bert-embed') });
    assert.ok(Math.abs(matrix[0][1] - matrix[1][0]) < 1e-6 && Math.abs(matrix[2][2] - 1) < 1e-5);
  });

  test('search ranks an identical document first', async () => {
    const docs = ['the cat sat on the mat', 'stocks fell sharply today', '영화가 정말 재미있다'];
    const hits = await geul.search('stocks fell sharply today', docs, { model: m('tiny-bert-embed'), top_k: 2 });
    assert.equal(hits.length, 2);
    assert.equal(hits[0].index, 1);
    assert.ok(Math.abs(hits[0].score - 1) < 1e-5 && hits[0].score >= hits[1].score);
  });
});

describe('fill-mask', () => {
  test('top_k candidates with descending scores and the filled sequence', async () => {
    const out = await geul.fillMask('hello [MASK] world', { model: m('tiny-bert-mlm'), top_k: 3 });
    assert.equal(out.length, 3);
    assert.ok(out[0].score >= out[1].score && out[1].score >= out[2].score);
    assert.ok(out.every((c) => typeof c.token === 'string' && c.sequence.length > 0));
  });

  test('a text without exactly one mask is a clear error', async () => {
    await rejectsWith(geul.fillMask('no mask here', { model: m('tiny-bert-mlm') }), 'INVALID_INPUT');
  });
});

describe('generate', () => {
  const model = () => m('tiny-gpt2');

  test('greedy generation is deterministic and respects max_new_tokens', async () => {
    const a = await geul.generate('hello', { model: model(), max_new_tokens: 8 });
    const b = await geul.generate('hello', { model: model(), max_new_tokens: 8 });
    assert.deepEqual(a, b);
    assert.ok(a.tokens <= 8 && a.tokens > 0);
  });

  test('same seed gives the same sample; different seeds differ', async () => {
    const opts = { model: model(), max_new_tokens: 12, do_sample: true, temperature: 1.5, top_k: 0 };
    const s1 = await geul.generate('hello', { ...opts, seed: 7 });
    const s2 = await geul.generate('hello', { ...opts, seed: 7 });
    assert.equal(s1.text, s2.text);
    const others = await Promise.all([8, 9, 10].map((seed) => geul.generate('hello', { ...opts, seed })));
    assert.ok(others.some((o) => o.text !== s1.text), 'three other seeds all gave the same text');
  });

  test('top_k 1 and a tiny top_p make sampling greedy', async () => {
    const greedy = await geul.generate('the film', { model: model(), max_new_tokens: 6 });
    const k1 = await geul.generate('the film', { model: model(), max_new_tokens: 6, do_sample: true, top_k: 1, seed: 3 });
    const p0 = await geul.generate('the film', { model: model(), max_new_tokens: 6, do_sample: true, top_k: 0, top_p: 1e-6, seed: 3 });
    assert.equal(k1.text, greedy.text);
    assert.equal(p0.text, greedy.text);
  });

  test('repetition_penalty changes greedy output', async () => {
    const plain = await geul.generate('a a a a', { model: model(), max_new_tokens: 16 });
    const penalised = await geul.generate('a a a a', { model: model(), max_new_tokens: 16, repetition_penalty: 50 });
    assert.notEqual(plain.text, penalised.text);
  });

  test('stop strings cut the text and end generation', async () => {
    const full = await geul.generate('hello', { model: model(), max_new_tokens: 16 });
    const stop = full.text.slice(2, 4);
    assert.ok(stop.length === 2, `greedy text too short to test stops: ${JSON.stringify(full.text)}`);
    const stopped = await geul.generate('hello', { model: model(), max_new_tokens: 16, stop: [stop] });
    assert.equal(stopped.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.equal(stopped.finish_reason, 'stop');
  });

  test('streaming yields pieces that add up to the final text', async () => {
    let streamed = '';
    const it = geul.streamGenerate('hello', { model: model(), max_new_tokens: 10 });
    let step = await it.next();
    while (!step.done) {
      streamed += step.value;
      step = await it.next();
    }
    assert.equal(streamed, step.value.text);
    assert.equal(step.value.text, (await geul.generate('hello', { model: model(), max_new_tokens: 10 })).text);
  });

  test('an aborted signal cancels generation', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await geul.generate('hello', { model: model(), max_new_tokens: 50, signal: controller.signal });
    assert.equal(out.finish_reason, 'cancelled');
    assert.ok(out.tokens <= 1);
  });
});

describe('translate', () => {
  const model = () => m('tiny-m2m100');

  test('translates a batch between validated languages, Korean included', async () => {
    const out = await geul.translate(['hello', '안녕하세요'], { model: model(), from: 'en', to: 'ko', max_new_tokens: 8 });
    assert.equal(out.length, 2);
    assert.ok(out.every((o) => typeof o.text === 'string'));
  });

  test('languages come from the model with names', async () => {
    const langs = await geul.languages(model());
    assert.ok(langs.length >= 100);
    assert.deepEqual(langs.find((l) => l.code === 'ko'), { code: 'ko', name: 'Korean' });
  });

  test('unknown or missing languages are clear errors', async () => {
    await rejectsWith(geul.translate('hello', { model: model(), from: 'en', to: 'xx' }), 'UNKNOWN_LANGUAGE');
    await rejectsWith(geul.translate('hello', { model: model(), from: 'zz', to: 'fr' }), 'UNKNOWN_LANGUAGE');
    await rejectsWith(geul.translate('hello', { model: model(), from: 'en' } as never), 'INVALID_INPUT');
  });
});

describe('model errors', () => {
  test('a model that cannot do the task', async () => {
    await rejectsWith(geul.translate('hello', { model: m('tiny-bert-sentiment'), from: 'en', to: 'fr' }), 'TASK_NOT_SUPPORTED');
    await rejectsWith(geul.generate('hello', { model: m('tiny-bert-mlm') }), 'TASK_NOT_SUPPORTED');
    await rejectsWith(geul.classify('hello', { model: m('tiny-gpt2') }), 'TASK_NOT_SUPPORTED');
  });

  test('offline and not cached; invalid ids; missing folders', async () => {
    await rejectsWith(geul.classify('x', { model: 'someone/not-cached' }), 'OFFLINE_NOT_CACHED');
    await rejectsWith(geul.classify('x', { model: 'http://evil.example/model' }), 'INVALID_MODEL_ID');
    // A relative path that climbs out of the working directory is a local folder: an empty one lacks the model files,
    // a missing one is not found (whatever folders happen to exist around the checkout).
    const empty = mkdtempSync(join(tmpdir(), 'geul-empty-model-'));
    await rejectsWith(geul.classify('x', { model: relative(process.cwd(), empty) }), 'MODEL_FILE_MISSING');
    await rejectsWith(geul.classify('x', { model: relative(process.cwd(), join(empty, 'nowhere')) }), 'MODEL_NOT_FOUND');
  });
});
