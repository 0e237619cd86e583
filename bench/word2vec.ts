// `npm run bench:word2vec`: geul's Word2Vec vs gensim 4 (Debian python3-gensim) on the same corpus, parameters and threads.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { sentences } from '../src/words/corpus.js';
import { trainWord2VecDetailed } from '../src/words/train.js';
import { readVectors, writeVectors } from '../src/words/formats.js';
import { evaluateAnalogies, evaluateSimilarity } from '../src/words/evaluate.js';
import { ensureGensim, machine, PYTHON, sharedData, writeReadmeSection } from './common.js';

const OUT = resolve('bench', 'out', 'word2vec');
const PARAMS = { vectorSize: 100, window: 5, negative: 5, sample: 1e-3, minCount: 5, epochs: 5, seed: 1 };
const SIZES = (process.env.BENCH_W2V_SIZES ?? '1,3').split(',').map(Number);
const THREADS = (process.env.BENCH_W2V_THREADS ?? '1,2').split(',').map(Number);

/** The Gutenberg books, stripped and tokenised once by geul, repeated `times`, so both trainers read the same tokens. */
async function corpus(times: number): Promise<{ path: string; words: number }> {
  const dir = sharedData('gutenberg');
  if (!dir) throw new Error('../shared/data/gutenberg is missing');
  const books = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => join(dir, f));
  const lines: string[] = [];
  let words = 0;
  for await (const tokens of sentences(books, { stripGutenberg: true })) {
    lines.push(tokens.join(' '));
    words += tokens.length;
  }
  const path = join(OUT, `gutenberg-x${times}.txt`);
  writeFileSync(path, `${Array.from({ length: times }, () => lines.join('\n')).join('\n')}\n`);
  return { path, words: words * times };
}

/** gensim with the vocabulary pass and training timed apart; `mode` = LineSentence iterable or corpus_file. */
const GENSIM = `
import sys, time, json
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
path, out, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = Word2Vec(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, sg=1, hs=0, workers=threads, seed=1)
t0 = time.time()
if mode == 'file':
    m.build_vocab(corpus_file=path)
    t1 = time.time()
    m.train(corpus_file=path, total_examples=m.corpus_count, total_words=m.corpus_total_words, epochs=m.epochs)
else:
    m.build_vocab(LineSentence(path))
    t1 = time.time()
    m.train(LineSentence(path), total_examples=m.corpus_count, epochs=m.epochs)
t2 = time.time()
m.wv.save_word2vec_format(out, binary=True)
print(json.dumps({'vocab': t1 - t0, 'train': t2 - t1, 'words': m.corpus_total_words}))
`;

interface Run { total: number; train: number; analogy: number; ws353: number }

async function score(file: string): Promise<{ analogy: number; ws353: number }> {
  const v = await readVectors(file);
  const analogies = sharedData('word2vec-analogy', 'questions-words.txt');
  const ws = sharedData('wordsim', 'EN-WS-353-ALL.txt');
  return {
    analogy: analogies ? (await evaluateAnalogies(v, analogies, { restrictVocab: 30000 })).accuracy : NaN,
    ws353: ws ? (await evaluateSimilarity(v, ws)).spearman : NaN,
  };
}

async function geul(path: string, words: number, threads: number, file: string): Promise<Run> {
  const started = Date.now();
  const r = await trainWord2VecDetailed([path], { ...PARAMS, threads, tokenizer: 'whitespace', lowercase: false });
  const total = (Date.now() - started) / 1000;
  await writeVectors(file, r.vectors, 'bin');
  return { total: (words * PARAMS.epochs) / total, train: (words * PARAMS.epochs) / r.stats.trainSeconds, ...(await score(file)) };
}

async function gensim(path: string, words: number, threads: number, file: string, mode: 'lines' | 'file'): Promise<Run> {
  const out = execFileSync(PYTHON, ['-c', GENSIM, path, file, String(threads), mode], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
  const t = JSON.parse(out.trim().split('\n').pop() as string) as { vocab: number; train: number };
  return { total: (words * PARAMS.epochs) / (t.vocab + t.train), train: (words * PARAMS.epochs) / t.train, ...(await score(file)) };
}

const rate = (x: number) => Math.round(x).toLocaleString('en');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function run(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  ensureGensim();
  const rows: string[] = [];
  const loads: number[] = [];
  for (const times of SIZES) {
    const { path, words } = await corpus(times);
    for (const threads of THREADS) {
      loads.push(loadavg()[0]);
      const g = await geul(path, words, threads, join(OUT, `geul-x${times}-t${threads}.bin`));
      const lines = await gensim(path, words, threads, join(OUT, `gensim-lines-x${times}-t${threads}.bin`), 'lines');
      const file = await gensim(path, words, threads, join(OUT, `gensim-file-x${times}-t${threads}.bin`), 'file');
      // The goal is against gensim's faster mode for this thread count.
      const best = lines.total >= file.total ? lines : file;
      const row = `| ${(words / 1e6).toFixed(2)} M (× ${times}) | ${threads} | ${rate(g.total)} | ${rate(lines.total)} | ${rate(file.total)} | **${(g.total / best.total).toFixed(2)}** | ${(g.train / Math.max(lines.train, file.train)).toFixed(2)} | ${pct(g.analogy)} | ${pct(lines.analogy)} / ${pct(file.analogy)} | ${g.ws353.toFixed(3)} | ${lines.ws353.toFixed(3)} / ${file.ws353.toFixed(3)} |`;
      console.log(row);
      rows.push(row);
      writeSection(rows, loads);
    }
  }
}

/** Rewritten after every row, so a run cut short still leaves what it measured. */
function writeSection(rows: string[], loads: number[]): void {
  const load = loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '?';
  writeReadmeSection('Word2Vec', [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, gensim ${gensimVersion()} (Debian python3-gensim, Cython/BLAS routines), 1-minute load average at the start of each row ${load}.`,
    '',
    'Command: `npm run bench:word2vec` (installs python3-gensim with apt-get if missing — for the benchmark only; `BENCH_W2V_SIZES=1,3 BENCH_W2V_THREADS=1,2` are the defaults).',
    '',
    'Same token stream for both: the 7 Gutenberg books, headers stripped and tokenised once by geul (lower-cased words), written one line per text line; "× 3" = concatenated three times. Same parameters: skip-gram, negative 5, window 5, vector_size 100, sample 1e-3, min_count 5, epochs 5, seed 1, same thread count. geul reads the file with `tokenizer: whitespace` (as gensim\'s LineSentence).',
    '',
    '- **words/s** = corpus words × epochs / wall time of vocabulary pass + training (both sides; geul\'s pass also encodes the corpus to ids). gensim is run twice: with the `LineSentence` iterable and with `corpus_file`. The **ratio** is geul over the faster gensim mode; "train only" leaves out the vocabulary pass on both sides.',
    '- **analogy** = Google analogy accuracy (restrict_vocab 30,000, questions with unknown words skipped, as gensim) and **WS-353** = Spearman ρ; both files scored by geul\'s evaluator, which reproduces gensim\'s `evaluate_word_analogies`/`evaluate_word_pairs` numbers exactly on the same file. Gutenberg is small: ~75 % of the analogy questions have a word outside its vocabulary, so accuracies are low for both.',
    '',
    '| corpus words | threads | geul words/s | gensim (LineSentence) | gensim (corpus_file) | ratio (goal ≥ 1.0) | ratio, train only | geul analogy | gensim analogy (lines / file) | geul WS-353 | gensim WS-353 (lines / file) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'));
}

let cachedVersion: string | undefined;
function gensimVersion(): string {
  cachedVersion ??= execFileSync(PYTHON, ['-c', 'import gensim; print(gensim.__version__)'], { encoding: 'utf8' }).trim();
  return cachedVersion;
}

if (existsSync(resolve('package.json'))) await run();
