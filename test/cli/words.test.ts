// The word-vector acceptance commands as real processes, on a small synthetic corpus (and the shared eval sets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLines, runCli } from '../helpers/cli.js';
import { sharedDataPath } from '../helpers/shared-data.js';

const work = mkdtempSync(join(tmpdir(), 'geul-words-cli-'));
const C = join(work, 'corpus.txt');
const V = join(work, 'V.bin');

test('word2vec train, similar, analogy, similarity, odd, convert and back', async () => {
  const royal = ['the king rules the kingdom', 'the queen rules the kingdom', 'a man walks', 'a woman walks', 'the king is a man', 'the queen is a woman'];
  writeFileSync(C, Array.from({ length: 300 }, (_, i) => royal[i % royal.length]).join('\n'));
  const train = await runCli(['word2vec', 'train', C, '--out', V, '--vector-size', '16', '--window', '3', '--negative', '5', '--min-count', '1', '--epochs', '2', '--threads', '2', '--seed', '1']);
  assert.equal(train.code, 0, train.stderr);
  const similar = await runCli(['words', 'similar', 'king', '--vectors', V, '--topn', '3', '--json']);
  const [list] = jsonLines(similar.stdout) as { word: string; score: number }[][];
  assert.equal(list.length, 3, similar.stderr);
  assert.ok(list.every((s) => typeof s.word === 'string' && typeof s.score === 'number' && s.word !== 'king'));
  const analogy = await runCli(['words', 'analogy', 'man', 'king', 'woman', '--vectors', V, '--json']);
  assert.ok((jsonLines(analogy.stdout)[0] as unknown[]).length > 0, analogy.stderr);
  const sim = await runCli(['words', 'similarity', 'king', 'queen', '--vectors', V, '--json']);
  assert.equal(typeof (jsonLines(sim.stdout)[0] as { score: number }).score, 'number', sim.stderr);
  const odd = await runCli(['words', 'odd', 'king', 'queen', 'walks', '--vectors', V, '--json']);
  assert.equal(typeof (jsonLines(odd.stdout)[0] as { word: string }).word, 'string', odd.stderr);
  const txt = join(work, 'V.txt');
  assert.equal((await runCli(['word2vec', 'convert', V, '--to', 'txt', '--out', txt])).code, 0);
  const back = join(work, 'V2.bin');
  assert.equal((await runCli(['word2vec', 'convert', txt, '--to', 'bin', '--out', back])).code, 0);
  assert.deepEqual(readFileSync(back), readFileSync(V));
  const unknown = await runCli(['words', 'similar', 'unicorn', '--vectors', V]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /"unicorn" is not in the vocabulary/);
});

test('words eval on the Google analogies and WS-353', async (t) => {
  const analogies = sharedDataPath(t, 'word2vec-analogy', 'questions-words.txt');
  const ws = sharedDataPath(t, 'wordsim', 'EN-WS-353-ALL.txt');
  if (!analogies || !ws) return;
  const r = await runCli(['words', 'eval', '--vectors', V, '--analogies', analogies, '--similarity', ws, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = jsonLines(r.stdout)[0] as { analogy: { accuracy: number; sections: Record<string, unknown> }; similarity: Record<string, { spearman: number; oov: number }> };
  assert.equal(typeof report.analogy.accuracy, 'number');
  assert.ok('capital-common-countries' in report.analogy.sections);
  assert.ok(report.similarity['EN-WS-353-ALL'].oov > 0.9, 'a tiny corpus knows almost none of WS-353');
});
