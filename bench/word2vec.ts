// `npm run bench:word2vec`: geul's Word2Vec vs gensim 4 (Debian python3-gensim) on the same corpus, parameters and threads.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sentences } from '../src/words/corpus.js';
import { trainWord2Vec } from '../src/words/train.js';
import { readVectors, writeVectors } from '../src/words/formats.js';
import { evaluateAnalogies, evaluateSimilarity } from '../src/words/evaluate.js';
import { machine, sharedData, writeReadmeSection } from './common.js';

const OUT = resolve('bench', 'out', 'word2vec');
const PARAMS = { vectorSize: 100, window: 5, negative: 5, sample: 1e-3, minCount: 5, epochs: 5, seed: 1 };
const REPEAT = Number(process.env.BENCH_W2V_REPEAT ?? 1);

function ensureGensim(): void {
  const ok = spawnSync('/usr/bin/python3', ['-c', 'import gensim'], { stdio: 'ignore' }).status === 0;
  if (ok) return;
  console.log('installing python3-gensim (for this benchmark only)…');
  execFileSync('apt-get', ['install', '-y', 'python3-gensim'], { stdio: 'inherit' });
}

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
  writeFileSync(path, Array.from({ length: times }, () => lines.join('\n')).join('\n'));
  return { path, words: words * times };
}

const GENSIM = `
import sys, time, logging
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
path, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = time.time()
m = Word2Vec(LineSentence(path), vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, sg=1, hs=0, workers=threads, seed=1)
print(time.time() - t)
m.wv.save_word2vec_format(out, binary=True)
`;

async function run(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  ensureGensim();
  const analogies = sharedData('word2vec-analogy', 'questions-words.txt');
  const ws353 = sharedData('wordsim', 'EN-WS-353-ALL.txt');
  const rows: string[] = [];
  for (const times of [1, 3]) {
    const { path, words } = await corpus(times);
    for (const threads of [1, 2]) {
      for (let r = 0; r < REPEAT; r++) {
        const started = Date.now();
        const vectors = await trainWord2Vec([path], { ...PARAMS, threads });
        const geulSeconds = (Date.now() - started) / 1000;
        const geulFile = join(OUT, `geul-x${times}-t${threads}.bin`);
        await writeVectors(geulFile, vectors, 'bin');
        const gensimFile = join(OUT, `gensim-x${times}-t${threads}.bin`);
        const gensimSeconds = Number(execFileSync('/usr/bin/python3', ['-c', GENSIM, path, gensimFile, String(threads)], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } }).trim().split('\n').pop());
        const score = async (file: string) => {
          const v = await readVectors(file);
          const a = analogies ? (await evaluateAnalogies(v, analogies)).accuracy : NaN;
          const s = ws353 ? (await evaluateSimilarity(v, ws353)).spearman : NaN;
          return { a, s };
        };
        const g = await score(geulFile);
        const p = await score(gensimFile);
        const gRate = (words * PARAMS.epochs) / geulSeconds;
        const pRate = (words * PARAMS.epochs) / gensimSeconds;
        const row = `| ${(words / 1e6).toFixed(2)} M × ${times === 1 ? '1' : times} | ${threads} | ${Math.round(gRate).toLocaleString('en')} | ${Math.round(pRate).toLocaleString('en')} | ${(gRate / pRate).toFixed(2)} | ${(100 * g.a).toFixed(1)} % | ${(100 * p.a).toFixed(1)} % | ${g.s.toFixed(3)} | ${p.s.toFixed(3)} |`;
        console.log(row);
        rows.push(row);
        writeSection(rows);
      }
    }
  }
}

/** Rewritten after every row, so a run cut short still leaves what it measured. */
function writeSection(rows: string[]): void {
  writeReadmeSection('Word2Vec', [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Rerun: \`npm run bench:word2vec\` (installs Debian's python3-gensim if missing; for the benchmark only).`,
    '',
    'Same token stream for both (the 7 Gutenberg books, headers stripped and tokenised once by geul; "× 3" = concatenated three times), skip-gram, negative 5, window 5, vector_size 100, sample 1e-3, min_count 5, epochs 5, seed 1. Words/s = corpus words × epochs / wall time of the whole training call (vocabulary pass included, both sides). Both vector files are scored by the same geul evaluator (Google analogies with restrict_vocab 30,000; WS-353 Spearman).',
    '',
    '| corpus words | threads | geul words/s | gensim words/s | ratio (goal ≥ 1.0) | geul analogy | gensim analogy | geul WS-353 ρ | gensim WS-353 ρ |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'));
}

if (existsSync(resolve('package.json'))) await run();
