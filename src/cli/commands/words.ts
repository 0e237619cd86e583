// `geul word2vec train|convert` and `geul words similar|analogy|similarity|odd|eval`: word vectors from the CLI.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { readVectors, writeVectors } from '../../words/formats.js';
import { evaluateAnalogies, evaluateSimilarity, similaritySetName } from '../../words/evaluate.js';
import { trainWord2Vec } from '../../words/train.js';
import type { WordVectors } from '../../words/vectors.js';
import { printJson } from '../context.js';
import { createProgress } from '../progress.js';

function int(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw geulError('INVALID_INPUT', { detail: `--${name} must be a whole number, got "${value}"` });
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

async function load(path: string, limit?: number): Promise<WordVectors> {
  const progress = createProgress('loading vectors', 0, 'loading vectors {bar} {value} words');
  try {
    let last = 0;
    return await readVectors(path, { limit, onProgress: (n, total) => { if (total) progress.setTotal(total); progress.increment(n - last); last = n; } });
  } finally {
    progress.stop();
  }
}

function withVectors(command: Command): Command {
  return command
    .requiredOption('-v, --vectors <file>', 'word vectors: word2vec .bin/.txt, GloVe .txt or fastText .vec (format detected)')
    .option('--limit <n>', 'load only the first N (most frequent) words', int('limit'))
    .option('--json', 'print JSON');
}

function registerWord2Vec(program: Command): void {
  const w2v = program.command('word2vec').description('Train Word2Vec vectors and convert vector files');
  w2v.command('train <corpus...>')
    .description('Train skip-gram or CBOW vectors on UTF-8 text files (one sentence per line, streamed)')
    .requiredOption('-o, --out <file>', 'output vector file')
    .option('--format <fmt>', 'output format: bin or txt', 'bin')
    .option('--vector-size <n>', 'dimensions', int('vector-size'), 100)
    .option('--window <n>', 'maximum context distance (sampled per word, as word2vec)', int('window'), 5)
    .option('--cbow', 'CBOW instead of skip-gram')
    .option('--negative <n>', 'negative samples per word (0 = off)', int('negative'), 5)
    .option('--hs', 'hierarchical softmax')
    .option('--sample <x>', 'down-sampling threshold for frequent words (0 = off)', num('sample'), 1e-3)
    .option('--min-count <n>', 'ignore words rarer than this', int('min-count'), 5)
    .option('--max-vocab <n>', 'keep at most this many words (0 = all)', int('max-vocab'), 0)
    .option('--alpha <x>', 'initial learning rate', num('alpha'), 0.025)
    .option('--min-alpha <x>', 'final learning rate (linear decay)', num('min-alpha'), 0.0001)
    .option('--epochs <n>', 'passes over the corpus', int('epochs'), 5)
    .option('--threads <n>', 'worker threads (default: all cores; 1 is reproducible bit for bit)', int('threads'))
    .option('--seed <n>', 'random seed', int('seed'), 1)
    .option('--no-lowercase', 'keep case')
    .option('--gutenberg', 'strip Project Gutenberg headers and licence text')
    .addHelpText('after', '\nExample:\n  $ geul word2vec train books/*.txt --out vectors.bin --vector-size 100 --window 5 --epochs 5 --gutenberg\n')
    .action(async (corpus: string[], o: Record<string, unknown>) => {
      if (o.format !== 'bin' && o.format !== 'txt') throw geulError('INVALID_INPUT', { detail: '--format must be bin or txt' });
      const progress = createProgress('word2vec', 0, 'word2vec {bar} {percentage}% | {words_s} words/s | alpha {alpha} | ETA {eta_formatted}');
      let shown = 0;
      const vectors = await trainWord2Vec(corpus, {
        vectorSize: o.vectorSize as number, window: o.window as number, sg: !o.cbow, negative: o.negative as number, hs: Boolean(o.hs),
        sample: o.sample as number, minCount: o.minCount as number, maxVocab: o.maxVocab as number, alpha: o.alpha as number,
        minAlpha: o.minAlpha as number, epochs: o.epochs as number, threads: o.threads as number | undefined, seed: o.seed as number,
        lowercase: o.lowercase as boolean, stripGutenberg: Boolean(o.gutenberg),
        onProgress: ({ done, total, alpha, wordsPerSecond }) => {
          progress.setTotal(total);
          progress.increment(done - shown, { alpha: alpha.toFixed(5), words_s: Math.round(wordsPerSecond) });
          shown = done;
        },
      });
      progress.stop();
      await writeVectors(o.out as string, vectors, o.format);
      process.stderr.write(`geul: ${vectors.size} words × ${vectors.dim} dimensions → ${o.out as string}\n`);
    });
  w2v.command('convert <file>')
    .description('Convert between word2vec binary and text (GloVe and fastText .vec read too)')
    .requiredOption('--to <fmt>', 'bin or txt')
    .requiredOption('-o, --out <file>', 'output file')
    .option('--limit <n>', 'convert only the first N words', int('limit'))
    .action(async (file: string, o: { to: string; out: string; limit?: number }) => {
      if (o.to !== 'bin' && o.to !== 'txt') throw geulError('INVALID_INPUT', { detail: '--to must be bin or txt' });
      await writeVectors(o.out, await load(file, o.limit), o.to);
    });
}

function registerWords(program: Command): void {
  const words = program.command('words').description('Query and evaluate word vectors (gensim semantics)');
  withVectors(words.command('similar <words...>'))
    .description('Words closest to the given words (with --negative: away from those)')
    .option('--topn <n>', 'how many', int('topn'), 10)
    .option('-n, --negative <word>', 'word to move away from (repeatable)', collect)
    .action(async (ws: string[], o: { vectors: string; limit?: number; topn: number; negative?: string[]; json?: boolean }) => {
      const result = (await load(o.vectors, o.limit)).mostSimilar({ positive: ws, negative: o.negative, topn: o.topn });
      if (o.json) printJson(result);
      else for (const r of result) process.stdout.write(`${r.word}\t${r.score.toFixed(4)}\n`);
    });
  withVectors(words.command('analogy <a> <b> <c>'))
    .description('a is to b as c is to ? (3CosAdd by default, --method mul for 3CosMul)')
    .option('--topn <n>', 'how many', int('topn'), 10)
    .option('--method <m>', 'add or mul', 'add')
    .addHelpText('after', '\nExample:\n  $ geul words analogy man king woman --vectors vectors.bin   # → queen, …\n')
    .action(async (a: string, b: string, c: string, o: { vectors: string; limit?: number; topn: number; method: string; json?: boolean }) => {
      if (o.method !== 'add' && o.method !== 'mul') throw geulError('INVALID_INPUT', { detail: '--method must be add or mul' });
      const result = (await load(o.vectors, o.limit)).analogy(a, b, c, { method: o.method, topn: o.topn });
      if (o.json) printJson(result);
      else for (const r of result) process.stdout.write(`${r.word}\t${r.score.toFixed(4)}\n`);
    });
  withVectors(words.command('similarity <a> <b>'))
    .description('Cosine similarity of two words')
    .action(async (a: string, b: string, o: { vectors: string; limit?: number; json?: boolean }) => {
      const score = (await load(o.vectors, o.limit)).similarity(a, b);
      if (o.json) printJson({ score });
      else process.stdout.write(`${score.toFixed(4)}\n`);
    });
  withVectors(words.command('odd <words...>'))
    .description("The word that doesn't match the others")
    .action(async (ws: string[], o: { vectors: string; limit?: number; json?: boolean }) => {
      const word = (await load(o.vectors, o.limit)).doesntMatch(ws);
      if (o.json) printJson({ word });
      else process.stdout.write(`${word}\n`);
    });
  withVectors(words.command('eval'))
    .description('Analogy accuracy (Google set, gensim rules) and word-similarity Spearman correlations')
    .option('--analogies <file>', 'analogy questions (questions-words.txt format)')
    .option('--similarity <file>', 'word-similarity set: word1 TAB word2 TAB score (repeatable)', collect)
    .option('--restrict-vocab <n>', 'analogies: only the N most frequent words take part', int('restrict-vocab'), 30000)
    .action(async (o: { vectors: string; limit?: number; json?: boolean; analogies?: string; similarity?: string[]; restrictVocab: number }) => {
      if (!o.analogies && !o.similarity) throw geulError('INVALID_INPUT', { detail: 'give --analogies and/or --similarity' });
      const vectors = await load(o.vectors, o.limit);
      const report: Record<string, unknown> = {};
      if (o.analogies) report.analogy = await evaluateAnalogies(vectors, o.analogies, { restrictVocab: o.restrictVocab });
      if (o.similarity) {
        const sims: Record<string, unknown> = {};
        for (const file of o.similarity) sims[similaritySetName(file)] = await evaluateSimilarity(vectors, file);
        report.similarity = sims;
      }
      if (o.json) printJson(report);
      else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}

export function register(program: Command): void {
  registerWord2Vec(program);
  registerWords(program);
}
