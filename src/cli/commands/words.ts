// `geul word2vec train|convert` and `geul words similar|analogy|similarity|odd|nearest|eval`: word vectors from the CLI.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { geulError } from '../../core/errors.js';
import { readVectors, writeVectors, type ReadOptions } from '../../words/formats.js';
import { evaluateAnalogies, evaluateSimilarity, similaritySetName } from '../../words/evaluate.js';
import { parseHubVectors, resolveVectorsPath } from '../../words/source.js';
import { trainWord2VecDetailed, type Word2VecEvent } from '../../words/train.js';
import type { Scored, WordVectors } from '../../words/vectors.js';
import { configFromCommand, printJson, type GlobalFlags } from '../context.js';
import { createProgress, type Progress } from '../progress.js';

function int(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw geulError('INVALID_INPUT', { detail: `--${name} must be a whole number ≥ ${min}, got "${value}"` });
    return n;
  };
}

function num(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw geulError('INVALID_INPUT', { detail: `--${name} must be a non-negative number, got "${value}"` });
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw geulError('INVALID_INPUT', { detail: `--${name} must be one of ${allowed.join(', ')}, got "${value}"` });
  return value as T;
}

const MB = (bytes: number) => (bytes / 1e6).toFixed(1);

/** A byte progress bar for reading a file, created on the first report. */
function byteBar(label: string): { onProgress: (read: number, total: number) => void; stop(): void } {
  let bar: Progress | undefined;
  let shown = 0;
  return {
    onProgress(read, total) {
      bar ??= createProgress(label, total, `${label} {bar} {percentage}% | {mb}/${MB(total)} MB | ETA {eta_formatted}`);
      bar.increment(read - shown, { mb: MB(read) });
      shown = read;
    },
    stop() { bar?.stop(); },
  };
}

interface VectorFlags { vectors: string; limit?: number; format?: string; json?: boolean }

/** Loads `--vectors` (a path or hub:owner/name/file) with progress bars on a terminal. */
async function load(command: Command, o: VectorFlags): Promise<WordVectors> {
  let path = o.vectors;
  if (parseHubVectors(o.vectors)) {
    const bar = byteBar('downloading');
    try {
      path = await resolveVectorsPath(o.vectors, configFromCommand(command), (p) => bar.onProgress(p.received, p.total ?? p.received));
    } finally {
      bar.stop();
    }
  }
  const bar = byteBar('loading vectors');
  try {
    const format = oneOf('format', o.format ?? 'auto', ['auto', 'bin', 'txt', 'vec', 'glove'] as const);
    return await readVectors(path, { limit: o.limit, format, onProgress: bar.onProgress } satisfies ReadOptions);
  } finally {
    bar.stop();
  }
}

function withVectors(command: Command): Command {
  return command
    .requiredOption('-v, --vectors <file>', 'word vectors: word2vec .bin/.txt, GloVe .txt, fastText .vec (.gz too), or hub:owner/name/path')
    .option('--format <fmt>', 'file format: auto, bin, txt, vec or glove', 'auto')
    .option('--limit <n>', 'load only the first N (most frequent) words', int('limit', 1))
    .option('--json', 'print JSON (one value per line)');
}

function printScored(result: Scored[], json?: boolean): void {
  if (json) printJson(result);
  else for (const r of result) process.stdout.write(`${r.word}\t${r.score.toFixed(4)}\n`);
}

/** Progress bars (reading, training) and warnings on stderr, driven by the training events. */
function trainProgress(): { onEvent: (e: Word2VecEvent) => void; stop(): void } {
  let phase: 'read' | 'step' | undefined;
  let bar: Progress | undefined;
  let shown = 0;
  return {
    onEvent(e) {
      if (e.type === 'log') {
        process.stderr.write(`geul: ${e.level === 'warning' ? 'warning: ' : ''}${e.message}\n`);
        return;
      }
      if (e.type === 'done') return;
      if (e.type !== phase) {
        bar?.stop();
        phase = e.type;
        shown = 0;
        bar = e.type === 'read'
          ? createProgress('reading corpus', e.total, `reading corpus {bar} {percentage}% | {mb}/${MB(e.total)} MB | ETA {eta_formatted}`)
          : createProgress('training', e.total, 'training {bar} {percentage}% | {words_s} words/s | alpha {alpha} | ETA {eta_formatted}');
      }
      const done = e.type === 'read' ? e.done : e.step;
      bar?.increment(done - shown, e.type === 'read' ? { mb: MB(e.done) } : { words_s: Math.round(e.words_per_s).toLocaleString('en'), alpha: e.alpha.toFixed(6) });
      shown = done;
    },
    stop() { bar?.stop(); },
  };
}

/** A spec key ("vectorSize") as its flag ("--vector-size"); sg is the inverse of --cbow. */
const w2vFlag = (key: string): string => (key === 'sg' ? '--cbow' : key === 'stripGutenberg' ? '--gutenberg' : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

const TRAIN_HELP = `
Corpus: UTF-8 text files, one sentence per line, streamed once and encoded to word ids.
Threads: the global --threads option (default: all cores). One thread with a fixed --seed is reproducible bit for bit.

Examples:
  $ geul word2vec train books/*.txt --out vectors.bin --gutenberg
  $ geul word2vec train corpus.txt --out V.bin --vector-size 100 --window 5 --negative 5 --min-count 5 --epochs 5 --threads 2 --seed 1
  $ geul word2vec train ko.txt --out ko.txt.vec --format txt --cbow --hs --negative 0
`;

function registerWord2Vec(program: Command): void {
  const w2v = program.command('word2vec').description('Train Word2Vec vectors and convert vector files');
  w2v.command('train <corpus...>')
    .description('Train skip-gram or CBOW vectors on text files (streamed; .gz accepted)')
    .requiredOption('-o, --out <file>', 'output vector file')
    .option('--format <fmt>', 'output format: bin or txt', 'bin')
    .option('--vector-size <n>', 'dimensions', int('vector-size', 1), 100)
    .option('--window <n>', 'maximum context distance (each word samples 1..N, as word2vec)', int('window', 1), 5)
    .option('--cbow', 'CBOW (mean of the context) instead of skip-gram')
    .option('--negative <n>', 'negative samples per word (0 = off)', int('negative'), 5)
    .option('--hs', 'hierarchical softmax')
    .option('--sample <x>', 'down-sampling threshold for frequent words (0 = off)', num('sample'), 1e-3)
    .option('--min-count <n>', 'ignore words rarer than this', int('min-count', 1), 5)
    .option('--max-vocab <n>', 'keep only the N most frequent words (0 = all)', int('max-vocab'), 0)
    .option('--alpha <x>', 'initial learning rate', num('alpha'), 0.025)
    .option('--min-alpha <x>', 'final learning rate (linear decay over all epochs)', num('min-alpha'), 0.0001)
    .option('--epochs <n>', 'passes over the corpus', int('epochs', 1), 5)
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--seed <n>', 'random seed', int('seed'), 1)
    .option('--no-lowercase', 'keep case (default: lower-case every token)')
    .option('--tokenizer <t>', 'words (letters/digits, punctuation dropped), whitespace (pre-tokenised text), or a regex', 'words')
    .option('--gutenberg', 'strip Project Gutenberg headers and licence text')
    .option('--kernel <k>', 'auto, wasm (WebAssembly SIMD) or js', 'auto')
    .option('--json', 'print a JSON summary on stdout')
    .addHelpText('after', TRAIN_HELP)
    .action(async (corpus: string[], o: Record<string, unknown>, command: Command) => {
      const format = oneOf('format', String(o.format), ['bin', 'txt'] as const);
      const threadsFlag = command.optsWithGlobals<GlobalFlags>().threads;
      const threads = threadsFlag === undefined || Number(threadsFlag) === 0 ? availableParallelism() : int('threads', 1)(threadsFlag);
      const progress = trainProgress();
      const started = Date.now();
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      let result;
      try {
        result = await trainWord2VecDetailed(corpus, {
          vectorSize: o.vectorSize as number, window: o.window as number, sg: !o.cbow, negative: o.negative as number, hs: Boolean(o.hs),
          sample: o.sample as number, minCount: o.minCount as number, maxVocab: o.maxVocab as number, alpha: o.alpha as number,
          minAlpha: o.minAlpha as number, epochs: o.epochs as number, threads, seed: o.seed as number,
          lowercase: o.lowercase as boolean, tokenizer: o.tokenizer as string, stripGutenberg: Boolean(o.gutenberg),
          kernel: oneOf('kernel', String(o.kernel), ['auto', 'wasm', 'js'] as const), onEvent: progress.onEvent, signal: controller.signal, optionName: w2vFlag,
        });
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
      const { vectors, stats } = result;
      await writeVectors(o.out as string, vectors, format);
      const seconds = (Date.now() - started) / 1000;
      const rate = Math.round((stats.trainWords * (o.epochs as number)) / Math.max(stats.trainSeconds, 1e-3));
      const summary = { out: o.out, words: vectors.size, dim: vectors.dim, tokens: stats.tokens, threads: stats.threads, kernel: stats.kernel, seconds, wordsPerSecond: rate };
      if (o.json) printJson(summary);
      else process.stderr.write(`geul: ${vectors.size.toLocaleString('en')} words × ${vectors.dim} → ${o.out as string} (${stats.tokens.toLocaleString('en')} tokens, ${rate.toLocaleString('en')} words/s on ${stats.threads} threads, ${seconds.toFixed(1)} s)\n`);
    });
  w2v.command('convert <file>')
    .description('Convert between word2vec binary and text (reads GloVe, fastText .vec and .gz too)')
    .requiredOption('--to <fmt>', 'bin or txt')
    .requiredOption('-o, --out <file>', 'output file')
    .option('--from <fmt>', 'input format: auto, bin, txt, vec or glove', 'auto')
    .option('--limit <n>', 'convert only the first N words', int('limit', 1))
    .option('--replace-spaces <s>', 'replace whitespace inside words by this (binary files cannot hold words with spaces)')
    .addHelpText('after', '\nExamples:\n  $ geul word2vec convert V.bin --to txt --out V.txt\n  $ geul word2vec convert glove.6B.100d.txt --to bin --out glove.bin\n')
    .action(async (file: string, o: { to: string; out: string; from: string; limit?: number; replaceSpaces?: string }, command: Command) => {
      const to = oneOf('to', o.to, ['bin', 'txt'] as const);
      const vectors = await load(command, { vectors: file, limit: o.limit, format: o.from });
      await writeVectors(o.out, vectors, to, { replaceSpaces: o.replaceSpaces });
    });
}

function registerWords(program: Command): void {
  const words = program.command('words').description('Query and evaluate word vectors (gensim semantics)');
  withVectors(words.command('similar <words...>'))
    .description('Words closest to the given words (gensim most_similar; with --negative: away from those)')
    .option('--topn <n>', 'how many', int('topn', 1), 10)
    .option('-n, --negative <word>', 'word to move away from (repeatable)', collect)
    .option('--restrict-vocab <n>', 'only the N most frequent words are candidates', int('restrict-vocab', 1))
    .addHelpText('after', '\nExample:\n  $ geul words similar king --vectors vectors.bin --topn 10 --json\n')
    .action(async (ws: string[], o: VectorFlags & { topn: number; negative?: string[]; restrictVocab?: number }, command: Command) => {
      const v = await load(command, o);
      printScored(v.mostSimilar({ positive: ws, negative: o.negative, topn: o.topn, restrictVocab: o.restrictVocab }), o.json);
    });
  withVectors(words.command('analogy <a> <b> <c>'))
    .description('a is to b as c is to ? (b − a + c; 3CosAdd by default, --method mul for 3CosMul)')
    .option('--topn <n>', 'how many', int('topn', 1), 10)
    .option('--method <m>', 'add (gensim most_similar) or mul (most_similar_cosmul)', 'add')
    .option('--restrict-vocab <n>', 'only the N most frequent words are candidates', int('restrict-vocab', 1))
    .addHelpText('after', '\nExample:\n  $ geul words analogy man king woman --vectors vectors.bin   # man : king = woman : ? → queen, …\n')
    .action(async (a: string, b: string, c: string, o: VectorFlags & { topn: number; method: string; restrictVocab?: number }, command: Command) => {
      const method = oneOf('method', o.method, ['add', 'mul'] as const);
      printScored((await load(command, o)).analogy(a, b, c, { method, topn: o.topn, restrictVocab: o.restrictVocab }), o.json);
    });
  withVectors(words.command('similarity <a> <b>'))
    .description('Cosine similarity of two words')
    .addHelpText('after', '\nExample:\n  $ geul words similarity cat dog --vectors vectors.bin\n')
    .action(async (a: string, b: string, o: VectorFlags, command: Command) => {
      const score = (await load(command, o)).similarity(a, b);
      if (o.json) printJson({ score });
      else process.stdout.write(`${score.toFixed(4)}\n`);
    });
  withVectors(words.command('odd <words...>'))
    .description("The word that doesn't match the others (gensim doesnt_match)")
    .addHelpText('after', '\nExample:\n  $ geul words odd breakfast cereal dinner lunch --vectors vectors.bin\n')
    .action(async (ws: string[], o: VectorFlags, command: Command) => {
      const word = (await load(command, o)).doesntMatch(ws);
      if (o.json) printJson({ word });
      else process.stdout.write(`${word}\n`);
    });
  withVectors(words.command('nearest'))
    .description('Nearest words to a vector (gensim similar_by_vector)')
    .requiredOption('--vector <values>', 'comma- or space-separated numbers, as many as the vectors have dimensions')
    .option('--topn <n>', 'how many', int('topn', 1), 10)
    .addHelpText('after', '\nExample:\n  $ geul words nearest --vector "0.1,0.3,…" --vectors vectors.bin\n')
    .action(async (o: VectorFlags & { vector: string; topn: number }, command: Command) => {
      const values = o.vector.split(/[\s,]+/).filter((s) => s !== '').map(Number);
      if (values.some((x) => !Number.isFinite(x))) throw geulError('INVALID_INPUT', { detail: '--vector must hold numbers only' });
      printScored((await load(command, o)).nearest(values, o.topn), o.json);
    });
  withVectors(words.command('eval'))
    .description('Analogy accuracy (Google set, gensim rules) and word-similarity Spearman correlations')
    .option('--analogies <file>', 'analogy questions (questions-words.txt format)')
    .option('--similarity <file>', 'word-similarity set: word1 TAB word2 TAB score (repeatable)', collect)
    .option('--restrict-vocab <n>', 'analogies: only the N most frequent words take part (gensim)', int('restrict-vocab', 1), 30000)
    .option('--method <m>', 'analogies: add (3CosAdd, gensim) or mul (3CosMul)', 'add')
    .option('--dummy4unknown', 'score questions/pairs with unknown words as wrong/0 instead of skipping them')
    .addHelpText('after', '\nExample:\n  $ geul words eval --vectors V.bin --analogies questions-words.txt --similarity EN-WS-353-ALL.txt --json\n')
    .action(async (o: VectorFlags & { analogies?: string; similarity?: string[]; restrictVocab: number; method: string; dummy4unknown?: boolean }, command: Command) => {
      if (!o.analogies && !o.similarity) throw geulError('INVALID_INPUT', { detail: 'give --analogies and/or --similarity' });
      const method = oneOf('method', o.method, ['add', 'mul'] as const);
      const vectors = await load(command, o);
      const report: Record<string, unknown> = {};
      if (o.analogies) report.analogy = await evaluateAnalogies(vectors, o.analogies, { restrictVocab: o.restrictVocab, method, dummy4unknown: o.dummy4unknown });
      if (o.similarity) {
        const sims: Record<string, unknown> = {};
        for (const file of o.similarity) sims[similaritySetName(file)] = await evaluateSimilarity(vectors, file, { dummy4unknown: o.dummy4unknown });
        report.similarity = sims;
      }
      if (o.json) printJson(report);
      else process.stdout.write(evalText(report));
    });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The eval report for people: one line per analogy section and per similarity set. */
function evalText(report: Record<string, unknown>): string {
  const lines: string[] = [];
  const a = report.analogy as Awaited<ReturnType<typeof evaluateAnalogies>> | undefined;
  if (a) {
    lines.push(`analogies: ${pct(a.accuracy)} (${a.correct}/${a.total}; ${a.skipped} of ${a.questions} questions had unknown words)`);
    for (const [name, s] of Object.entries(a.sections)) lines.push(`  ${name.padEnd(28)} ${pct(s.accuracy).padStart(6)}  (${s.correct}/${s.correct + s.incorrect})`);
  }
  for (const [name, s] of Object.entries((report.similarity ?? {}) as Record<string, Awaited<ReturnType<typeof evaluateSimilarity>>>)) {
    lines.push(`${name}: Spearman ${s.spearman.toFixed(3)}, Pearson ${s.pearson.toFixed(3)} over ${s.pairs} pairs (${pct(s.oov)} unknown)`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  registerWord2Vec(program);
  registerWords(program);
}
