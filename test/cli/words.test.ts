// The word-vector commands in-process (geul word2vec …, geul words …): acceptance flow, JSON shapes, errors, hub: vectors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { startFakeHub } from '../helpers/fake-hub.js';
import { sharedDataPath } from '../helpers/shared-data.js';

const work = mkdtempSync(join(tmpdir(), 'geul-words-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const C = join(work, 'corpus.txt');
const V = join(work, 'V.bin');
process.env.GEUL_NO_PROGRESS = '1';

/**
 * Runs `geul ARGS` in this process, capturing what the CLI writes (strings) and the exit code. Binary chunks pass
 * through: the test runner talks to its parent over this process's stdout.
 */
async function geul(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: () => unknown }> {
  let stdout = '';
  let stderr = '';
  const [out, err] = [process.stdout.write, process.stderr.write];
  const capture = (stream: NodeJS.WriteStream, original: typeof out, add: (s: string) => void) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    add(chunk);
    return true;
  }) as typeof out;
  process.stdout.write = capture(process.stdout, out, (s) => { stdout += s; });
  process.stderr.write = capture(process.stderr, err, (s) => { stderr += s; });
  process.exitCode = undefined;
  try {
    await main(['node', 'geul', ...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr, json: () => JSON.parse(stdout.trim().split('\n')[0]) as unknown };
}

/** Royal and fruit sentences: enough signal for a few epochs of tiny vectors. */
function writeCorpus(): void {
  const royal = ['the king rules the kingdom', 'the queen rules the kingdom', 'a man walks home', 'a woman walks home', 'the king is a man', 'the queen is a woman', 'apples and pears are fruit', 'pears and plums are fruit'];
  writeFileSync(C, Array.from({ length: 600 }, (_, i) => royal[i % royal.length]).join('\n'));
}

test('train → similar, analogy, similarity, odd, nearest, convert and back (the acceptance flow)', async () => {
  writeCorpus();
  const train = await geul('word2vec', 'train', C, '--out', V, '--vector-size', '16', '--window', '3', '--negative', '5', '--min-count', '5', '--epochs', '3', '--threads', '2', '--seed', '1', '--json');
  assert.equal(train.code, 0, train.stderr);
  const summary = train.json() as { words: number; dim: number; threads: number; tokens: number };
  assert.deepEqual([summary.dim, summary.threads, summary.tokens], [16, 2, 75 * 38]);

  const similar = await geul('words', 'similar', 'king', '--vectors', V, '--topn', '3', '--json');
  const list = similar.json() as { word: string; score: number }[];
  assert.equal(list.length, 3, similar.stderr);
  assert.ok(list.every((s) => typeof s.word === 'string' && typeof s.score === 'number' && s.word !== 'king'));
  assert.ok(list[0].score >= list[1].score && list[1].score >= list[2].score);

  const analogy = await geul('words', 'analogy', 'man', 'king', 'woman', '--vectors', V, '--json');
  assert.equal((analogy.json() as unknown[]).length, 10, analogy.stderr);
  const mul = await geul('words', 'analogy', 'man', 'king', 'woman', '--vectors', V, '--method', 'mul', '--topn', '2', '--json');
  assert.equal((mul.json() as unknown[]).length, 2, mul.stderr);
  const sim = await geul('words', 'similarity', 'king', 'queen', '--vectors', V, '--json');
  assert.equal(typeof (sim.json() as { score: number }).score, 'number', sim.stderr);
  const odd = await geul('words', 'odd', 'king', 'queen', 'man', 'pears', '--vectors', V, '--json');
  assert.equal(typeof (odd.json() as { word: string }).word, 'string', odd.stderr);
  const text = await geul('words', 'similar', 'king', '--vectors', V, '--topn', '2');
  assert.match(text.stdout, /^\S+\t-?\d\.\d{4}\n\S+\t-?\d\.\d{4}\n$/);
  const vector = Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : 0)).join(',');
  const nearest = await geul('words', 'nearest', '--vector', vector, '--vectors', V, '--topn', '1', '--json');
  assert.equal((nearest.json() as unknown[]).length, 1, nearest.stderr);

  const txt = join(work, 'V.txt');
  assert.equal((await geul('word2vec', 'convert', V, '--to', 'txt', '--out', txt)).code, 0);
  assert.match(readFileSync(txt, 'utf8').split('\n')[0], /^\d+ 16$/);
  const back = join(work, 'V2.bin');
  assert.equal((await geul('word2vec', 'convert', txt, '--to', 'bin', '--out', back)).code, 0);
  assert.deepEqual(readFileSync(back), readFileSync(V));
});

test('one thread with a seed writes the same bytes twice; --threads 1 is honoured', async () => {
  writeCorpus();
  const files = [join(work, 'r1.bin'), join(work, 'r2.bin')];
  for (const out of files) {
    const r = await geul('--threads', '1', 'word2vec', 'train', C, '--out', out, '--vector-size', '8', '--epochs', '1', '--seed', '5', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.json() as { threads: number }).threads, 1);
  }
  assert.deepEqual(readFileSync(files[0]), readFileSync(files[1]));
});

test('unknown words and bad input: clear errors and non-zero exit codes', async () => {
  const unknown = await geul('words', 'similar', 'unicorn', '--vectors', V);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /geul: Word "unicorn" is not in the vocabulary \[UNKNOWN_WORD\]/);
  const analogy = await geul('words', 'analogy', 'man', 'king', 'dragon', '--vectors', V);
  assert.match(analogy.stderr, /"dragon" is not in the vocabulary/);
  const missing = await geul('words', 'similarity', 'a', 'b', '--vectors', join(work, 'nope.bin'));
  assert.match(missing.stderr, /File not found.*nope\.bin \[FILE_NOT_FOUND\]/);
  const method = await geul('words', 'analogy', 'a', 'b', 'c', '--vectors', V, '--method', 'div');
  assert.match(method.stderr, /--method must be one of add, mul/);
  const nothing = await geul('word2vec', 'train', C, '--out', join(work, 'x.bin'), '--negative', '0');
  assert.match(nothing.stderr, /negative sampling .* or hierarchical softmax/);
  const rare = await geul('word2vec', 'train', C, '--out', join(work, 'x.bin'), '--min-count', '100000');
  assert.match(rare.stderr, /min_count/);
});

test('Korean vectors through the CLI: queries, --limit, bin ↔ txt round trip, case hints', async () => {
  const ko = join(work, 'ko.txt');
  writeFileSync(ko, '5 3\n사과 1 0 0.1\n배 0.9 0.1 0.1\n왕 0 1 0\n여왕 0.1 1 0.2\nKing 0 0.9 0\n');
  const similar = await geul('words', 'similar', '사과', '--vectors', ko, '--topn', '1', '--json');
  assert.equal(similar.code, 0, similar.stderr);
  assert.equal((similar.json() as { word: string }[])[0].word, '배');
  const odd = await geul('words', 'odd', '사과', '배', '여왕', '--vectors', ko);
  assert.equal(odd.stdout, '여왕\n');
  const limited = await geul('words', 'similarity', '사과', '왕', '--vectors', ko, '--limit', '2');
  assert.equal(limited.code, 2);
  assert.match(limited.stderr, /Word "왕" is not in the vocabulary \[UNKNOWN_WORD\]/);
  const cased = await geul('words', 'similar', 'king', '--vectors', ko);
  assert.match(cased.stderr, /"king" is not in the vocabulary \(but "King" is; words are case-sensitive\)/);
  const bin = join(work, 'ko.bin');
  const txt = join(work, 'ko2.txt');
  assert.equal((await geul('word2vec', 'convert', ko, '--to', 'bin', '--out', bin)).code, 0);
  assert.equal((await geul('word2vec', 'convert', bin, '--to', 'txt', '--out', txt)).code, 0);
  assert.equal(readFileSync(txt, 'utf8'), readFileSync(ko, 'utf8'));
  const two = join(work, 'ko-2.txt');
  assert.equal((await geul('word2vec', 'convert', bin, '--to', 'txt', '--out', two, '--limit', '2')).code, 0);
  assert.equal(readFileSync(two, 'utf8'), '2 3\n사과 1 0 0.1\n배 0.9 0.1 0.1\n');
  const folder = await geul('words', 'similar', '왕', '--vectors', work);
  assert.match(folder.stderr, /folder, not a vector file \[FILE_INVALID\]/);
});

test('words eval: analogy sections and similarity sets (shared data)', async (t) => {
  const analogies = sharedDataPath(t, 'word2vec-analogy', 'questions-words.txt');
  const ws = sharedDataPath(t, 'wordsim', 'EN-WS-353-ALL.txt');
  if (!analogies || !ws) return;
  const r = await geul('words', 'eval', '--vectors', V, '--analogies', analogies, '--similarity', ws, '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = r.json() as { analogy: { accuracy: number; questions: number; sections: Record<string, unknown> }; similarity: Record<string, { spearman: number | null; oov: number }> };
  assert.equal(typeof report.analogy.accuracy, 'number');
  assert.equal(report.analogy.questions, 19544);
  assert.equal(Object.keys(report.analogy.sections).length, 14);
  assert.ok(report.similarity['EN-WS-353-ALL'].oov > 0.9, 'a tiny corpus knows almost none of WS-353');
  const text = await geul('words', 'eval', '--vectors', V, '--similarity', ws);
  assert.match(text.stdout, /^EN-WS-353-ALL: Spearman/);
});

test('--vectors hub:owner/name/file comes through the hub cache', async () => {
  const hub = await startFakeHub({ repos: { 'acme/vecs': { main: { 'v/vectors.bin': readFileSync(V) } } } });
  try {
    const cache = join(work, 'cache');
    const args = ['--hub-url', hub.url, '--cache-dir', cache, 'words', 'similar', 'king', '--vectors', 'hub:acme/vecs/v/vectors.bin', '--topn', '2', '--json'];
    const first = await geul(...args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((first.json() as unknown[]).length, 2);
    const offline = await geul('--offline', ...args);
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(offline.json(), first.json());
    const missing = await geul('--hub-url', hub.url, '--cache-dir', cache, 'words', 'similar', 'king', '--vectors', 'hub:acme/vecs/v/nope.bin');
    assert.match(missing.stderr, /missing file "v\/nope\.bin"/);
  } finally {
    await hub.close();
  }
});
