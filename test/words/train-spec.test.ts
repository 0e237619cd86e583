// Word2Vec training as a function: bounded options (one schema), JSON events, AbortSignal, and input that is not text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/random.js';
import { trainWord2VecDetailed, type Word2VecEvent } from '../../src/words/train.js';
import { parseWord2VecSpec } from '../../src/words/train-spec.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-w2v-spec-'));
const corpus = join(dir, 'corpus.txt');
const rng = new Rng(4);
const words = ['cat', 'dog', 'horse', 'cow', 'saw', 'drill', 'hammer', 'nail'];
writeFileSync(corpus, Array.from({ length: 400 }, () => Array.from({ length: 8 }, () => words[rng.int(words.length)]).join(' ')).join('\n'));
const small = { vectorSize: 8, window: 2, minCount: 1, epochs: 2, sample: 0, threads: 1, seed: 1 };

const invalid = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: Error & { code?: string }) => {
  assert.equal(err.code, 'INVALID_INPUT');
  assert.match(err.message, pattern);
  return true;
});

test('options are bounded by one schema, with defaults, and errors name the option', () => {
  const spec = parseWord2VecSpec({});
  assert.equal(spec.vectorSize, 100);
  assert.equal(spec.epochs, 5);
  invalid(() => parseWord2VecSpec({ vectorSize: 0 }), /vectorSize must be >= 1, got 0/);
  invalid(() => parseWord2VecSpec({ window: 2.5 }), /window must be integer/);
  invalid(() => parseWord2VecSpec({ alpha: 0 }), /alpha must be > 0/);
  invalid(() => parseWord2VecSpec({ sample: -1 }), /sample must be >= 0/);
  invalid(() => parseWord2VecSpec({ negative: 0 }), /hierarchical softmax/);
  invalid(() => parseWord2VecSpec({ epochs: 0 }, (k) => `--${k}`), /--epochs must be >= 1/);
});

test('events: read, then step (words, alpha, words/s, progress), then done; all plain JSON', async () => {
  const events: Word2VecEvent[] = [];
  await trainWord2VecDetailed([corpus], { ...small, onEvent: (e) => events.push(e) });
  for (const e of events) assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
  assert.equal(events[0].type, 'read');
  const steps = events.filter((e) => e.type === 'step');
  assert.ok(steps.length >= 1);
  const last = steps.at(-1);
  assert.ok(last?.type === 'step');
  assert.equal(last.step, last.total);
  assert.equal(last.progress, 1);
  assert.ok(last.alpha > 0 && last.words_per_s > 0);
  assert.equal(events.at(-1)?.type, 'done');
});

test('an aborted signal stops training with CANCELLED (before reading, and while the threads run)', async () => {
  await assert.rejects(trainWord2VecDetailed([corpus], { ...small, signal: AbortSignal.abort() }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  const controller = new AbortController();
  const big = join(dir, 'big.txt');
  writeFileSync(big, `${Array.from({ length: 4000 }, (_, i) => `${words[i % 8]} ${words[(i * 3) % 8]} ${words[(i * 5) % 8]} ${words[(i * 7) % 8]}`).join('\n')}\n`);
  const events: Word2VecEvent[] = [];
  const run = trainWord2VecDetailed([big], {
    ...small, epochs: 100_000, signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'step') controller.abort();
    },
  });
  await assert.rejects(run, (err: Error & { code?: string }) => err.code === 'CANCELLED');
  const done = events.at(-1);
  assert.ok(done?.type === 'done' && done.reason === 'cancelled');
});

test('binary input: lines that are not UTF-8 text are skipped with a warning; nothing usable left is DATA_INVALID', async () => {
  const binary = join(dir, 'blob.bin');
  writeFileSync(binary, Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([randomBytes(200).map((b) => (b === 10 ? 0 : b | 0x80)), Buffer.from([0, 10])]))));
  const warnings: string[] = [];
  await assert.rejects(trainWord2VecDetailed([binary], { ...small, onEvent: (e) => e.type === 'log' && warnings.push(e.message) }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DATA_INVALID');
    assert.match(err.message, /no text to train on/);
    return true;
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /skipped 64 of 64 lines that are not UTF-8 text \(a binary file\?\)/);
  // Mixed with a real corpus: trains on the text, warns about the binary file.
  const mixed = await trainWord2VecDetailed([corpus, binary], { ...small, onEvent: (e) => e.type === 'log' && warnings.push(e.message) });
  assert.equal(mixed.vectors.size, words.length);
  assert.equal(warnings.length, 2);

  const cli = await runCli(['word2vec', 'train', binary, '--out', join(dir, 'v.bin'), '--min-count', '1']);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /warning: .*not UTF-8 text/);
  assert.match(cli.stderr, /DATA_INVALID/);
});
