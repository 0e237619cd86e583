// `npm run bench:pretrain-vs-finetune`: the seed's experiment. Pre-train a small BERT with masked-LM on unlabelled
// text (IMDb training reviews without labels + the Gutenberg books; never the validation reviews), fine-tune it on
// IMDb, and fine-tune the same architecture from random initialisation with the same fine-tuning budget; the
// from-scratch bag-of-bigrams and GRU of `geul train` run on the same split. Writes bench/README.md's section and an SVG.
//
//   npm run bench:pretrain-vs-finetune -- [--size mini] [--vocab-size 8000] [--pretrain-steps 3000] [--pretrain-batch 32]
//     [--pretrain-max-length 128] [--finetune-epochs 2] [--finetune-max-length 256] [--finetune-batch 16] [--finetune-lr 1e-4]
//     [--baseline-epochs 3] [--limit 0] [--no-gutenberg] [--no-baselines] [--threads 2] [--no-readme]
//
// Budget knobs: --pretrain-steps (pre-training), --finetune-epochs (both fine-tuning arms alike), --baseline-epochs,
// and --limit (a stratified subset of N IMDb reviews, 0 = all 25k; for smoke runs).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadExamples, type Example } from '../src/train/data/dataset.js';
import { stratifiedMask, stratifiedSplit } from '../src/train/data/split.js';
import { parseEncoderConfig } from '../src/train/pretrained/config.js';
import { finetuneEncoder, type FinetuneResult } from '../src/train/pretrained/finetune.js';
import { loadMlmTokenizer } from '../src/train/pretrained/mlm-tokenizer.js';
import { encoderModelDef } from '../src/train/pretrained/model-def.js';
import { pretrainEncoder } from '../src/train/pretrained/pretrain.js';
import { writeMaskedLmFolder } from '../src/train/pretrained/pretrain-output.js';
import type { EncoderSize } from '../src/train/pretrained/sizes.js';
import { trainText } from '../src/train/run.js';
import { Trainer } from '../src/train/trainer.js';
import { machine, sharedData, writeReadmeSection } from './common.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'mini' },
    'vocab-size': { type: 'string', default: '8000' },
    'pretrain-steps': { type: 'string', default: '3000' },
    'pretrain-batch': { type: 'string', default: '32' },
    'pretrain-max-length': { type: 'string', default: '128' },
    'pretrain-lr': { type: 'string', default: '5e-4' },
    'finetune-epochs': { type: 'string', default: '2' },
    'finetune-max-length': { type: 'string', default: '256' },
    'finetune-batch': { type: 'string', default: '16' },
    'finetune-lr': { type: 'string', default: '1e-4' },
    'baseline-epochs': { type: 'string', default: '3' },
    limit: { type: 'string', default: '0' },
    'no-gutenberg': { type: 'boolean', default: false },
    'no-baselines': { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const seed = Number(args.seed);
const threads = Number(args.threads);

interface Row { name: string; settings: string; accuracy: number; seconds: number; note?: string }

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (start: number) => (performance.now() - start) / 1000;
const jsonl = (rows: readonly { text: string; label?: string }[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** IMDb split 80/20 (stratified, seeded) exactly once, written for every arm; `limit` takes a stratified subset first. */
async function split(work: string): Promise<{ train: string; valid: string; unlabelled: string; counts: string }> {
  const source = sharedData('imdb', 'train.jsonl');
  if (!source) throw new Error('IMDb data not found (../shared/data/imdb/train.jsonl)');
  let rows: Example[] = await loadExamples(source);
  const limit = Number(args.limit);
  if (limit > 0 && limit < rows.length) {
    const keep = stratifiedMask(rows.map((r) => r.label), limit / rows.length, seed + 7);
    rows = rows.filter((_, i) => keep[i] === 1);
  }
  const { train, valid } = stratifiedSplit(rows, 0.2, seed);
  const paths = { train: join(work, 'train.jsonl'), valid: join(work, 'valid.jsonl'), unlabelled: join(work, 'unlabelled.jsonl') };
  writeFileSync(paths.train, jsonl(train.map((r) => ({ text: r.text, label: r.label }))));
  writeFileSync(paths.valid, jsonl(valid.map((r) => ({ text: r.text, label: r.label }))));
  // The pre-training corpus holds the training reviews' texts only: no labels, no validation review.
  writeFileSync(paths.unlabelled, jsonl(train.map((r) => ({ text: r.text }))));
  return { ...paths, counts: `${train.length} training / ${valid.length} validation reviews` };
}

/** A checkpoint of the pre-trained model's architecture and tokenizer with Hugging Face's random initial weights. */
async function randomInit(pretrained: string, out: string): Promise<void> {
  const raw = JSON.parse(readFileSync(join(pretrained, 'config.json'), 'utf8')) as Record<string, unknown>;
  const config = parseEncoderConfig(raw, pretrained, 'masked-lm');
  const trainer = await Trainer.create(encoderModelDef(config, new Map()), { name: 'adamw', lr: 0 }, { seed: seed + 100, threads });
  try {
    mkdirSync(out, { recursive: true });
    await writeMaskedLmFolder(out, config, raw, trainer.weights(), (await loadMlmTokenizer(pretrained)).files);
  } finally {
    await trainer.release();
  }
}

async function finetune(name: string, base: string, data: { train: string; valid: string }, out: string): Promise<{ result: FinetuneResult; seconds: number }> {
  const started = performance.now();
  const result = await finetuneEncoder({
    data: { source: data.train, valid: data.valid, maxLength: Number(args['finetune-max-length']) },
    model: { base },
    optim: { lr: Number(args['finetune-lr']) },
    run: { epochs: Number(args['finetune-epochs']), batchSize: Number(args['finetune-batch']), seed, threads },
    output: { dir: out },
  }, { onEvent: (e) => { if (e.type === 'epoch' || (e.type === 'log' && e.level === 'info')) log(`${name}: ${JSON.stringify(e)}`); } });
  return { result, seconds: seconds(started) };
}

/** Horizontal bars of validation accuracy, self-contained (inline styles), for bench/README.md. */
function barChart(title: string, rows: readonly Row[]): string {
  const W = 560;
  const bar = 26;
  const L = 230;
  const H = 40 + rows.length * (bar + 10) + 24;
  const lo = 0.5;
  const x = (a: number) => L + ((Math.max(a, lo) - lo) / (1 - lo)) * (W - L - 60);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold" font-size="13">${esc(title)}</text>`);
  for (const tick of [0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
    parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="30" y2="${H - 24}" stroke="#ddd"/><text x="${x(tick)}" y="${H - 8}" text-anchor="middle" fill="#555">${tick * 100} %</text>`);
  }
  rows.forEach((r, i) => {
    const y = 34 + i * (bar + 10);
    parts.push(`<text x="${L - 8}" y="${y + bar / 2 + 4}" text-anchor="end">${esc(r.name)}</text>`);
    parts.push(`<rect x="${L}" y="${y}" width="${(x(r.accuracy) - L).toFixed(1)}" height="${bar}" fill="${i < 2 ? '#3b6fb6' : '#999'}"/>`);
    parts.push(`<text x="${(x(r.accuracy) + 4).toFixed(1)}" y="${y + bar / 2 + 4}">${(r.accuracy * 100).toFixed(2)} % · ${r.seconds.toFixed(0)} s</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('')}\n`;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'geul-bench-pvf-'));
  const load = [loadavg()[0]];
  const rows: Row[] = [];
  try {
    const data = await split(work);
    log(`data: ${data.counts}`);
    const gutenberg = args['no-gutenberg'] ? undefined : sharedData('gutenberg');
    // The books only (the folder also holds the Gutenberg licence).
    const books = gutenberg ? readdirSync(gutenberg).filter((f) => f.endsWith('.txt')).sort().map((f) => join(gutenberg, f)) : [];
    const sources = [data.unlabelled, ...books];
    const size = args.size as EncoderSize;
    const pretrained = join(work, 'pretrained');
    let started = performance.now();
    const pre = await pretrainEncoder({
      data: { sources, documents: 'paragraph', stripGutenberg: true },
      model: { size, vocabSize: Number(args['vocab-size']) },
      optim: { lr: Number(args['pretrain-lr']) },
      run: { steps: Number(args['pretrain-steps']), batchSize: Number(args['pretrain-batch']), maxLength: Number(args['pretrain-max-length']), seed, threads },
      output: { dir: pretrained },
    }, { onEvent: (e) => { if (e.type === 'eval' || e.type === 'start' || e.type === 'log') log(`pretrain: ${JSON.stringify(e)}`); } });
    const preSeconds = seconds(started);
    const mlm = pre.history.at(-1);
    log(`pre-training: ${preSeconds.toFixed(0)} s, held-out MLM loss ${mlm?.loss.toFixed(4)}, masked accuracy ${mlm?.accuracy.toFixed(4)}, ${pre.tokensPerSecond.toFixed(0)} tokens/s`);

    const ft = `${args['finetune-epochs']} epochs, lr ${args['finetune-lr']}, batch ${args['finetune-batch']}, max ${args['finetune-max-length']} tokens, AdamW + 10 % warmup`;
    const tuned = await finetune('pretrained', pretrained, data, join(work, 'tuned'));
    rows.push({ name: `BERT-${size}, MLM pre-trained`, settings: ft, accuracy: tuned.result.best, seconds: tuned.seconds + preSeconds, note: `pre-training ${preSeconds.toFixed(0)} s + fine-tuning ${tuned.seconds.toFixed(0)} s` });
    const random = join(work, 'random');
    await randomInit(pretrained, random);
    const scratch = await finetune('random init', random, data, join(work, 'scratch'));
    rows.push({ name: `BERT-${size}, random init`, settings: ft, accuracy: scratch.result.best, seconds: scratch.seconds });
    load.push(loadavg()[0]);

    if (!args['no-baselines']) {
      const epochs = Number(args['baseline-epochs']);
      for (const model of ['bow', 'gru'] as const) {
        started = performance.now();
        const r = await trainText({
          data: { source: data.train, valid: data.valid, maxLength: model === 'bow' ? 800 : 256, vocabSize: 30000 },
          model: { name: model, ...(model === 'gru' ? { pooling: 'max' as const } : {}) },
          run: { epochs, batchSize: 32, seed, patience: 1, threads }, output: { dir: join(work, model) },
        }, { onEvent: (e) => { if (e.type === 'epoch') log(`${model} epoch ${e.epoch}: valid acc ${e.valid_accuracy.toFixed(4)}`); } });
        rows.push({ name: model === 'bow' ? 'bag of bigrams (geul train)' : 'GRU, max pooling (geul train)', settings: `${epochs} epochs, patience 1, ${model === 'bow' ? '800' : '256'} tokens`, accuracy: r.best, seconds: seconds(started) });
      }
    }
    load.push(loadavg()[0]);

    const command = `npm run bench:pretrain-vs-finetune -- --size ${size} --vocab-size ${args['vocab-size']} --pretrain-steps ${args['pretrain-steps']} --pretrain-batch ${args['pretrain-batch']} --pretrain-max-length ${args['pretrain-max-length']} --finetune-epochs ${args['finetune-epochs']} --finetune-max-length ${args['finetune-max-length']} --finetune-batch ${args['finetune-batch']} --finetune-lr ${args['finetune-lr']} --baseline-epochs ${args['baseline-epochs']} --limit ${args.limit} --threads ${threads}${args['no-gutenberg'] ? ' --no-gutenberg' : ''}${args['no-baselines'] ? ' --no-baselines' : ''}`;
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${threads} threads; 1-minute load average ${load.map((l) => l.toFixed(1)).join(' → ')} (start → after fine-tuning → end). Reproduce: \`${command}\``,
      '',
      `IMDb \`train.jsonl\`, ${data.counts} (stratified 80/20, seed ${seed}). Pre-training corpus: the training reviews' texts without labels${gutenberg ? ` + the ${books.length} Gutenberg books (paragraphs, headers stripped)` : ''}; the validation reviews are never seen before evaluation.`,
      `Pre-training: BERT-${size}, WordPiece vocabulary of ${args['vocab-size']} trained on that corpus, ${args['pretrain-steps']} steps × ${args['pretrain-batch']} sequences of ${args['pretrain-max-length']} tokens, AdamW lr ${args['pretrain-lr']}, 15 % masking (80/10/10); held-out MLM loss ${mlm?.loss.toFixed(3) ?? '-'}, masked-token accuracy ${mlm ? (mlm.accuracy * 100).toFixed(1) : '-'} %, ${pre.tokensPerSecond.toFixed(0)} tokens/s, ${preSeconds.toFixed(0)} s.`,
      '',
      '| model | fine-tuning / training | best validation accuracy | wall time |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${r.settings} | ${(r.accuracy * 100).toFixed(2)} % | ${r.seconds.toFixed(0)} s${r.note ? ` (${r.note})` : ''} |`),
      '',
      '![validation accuracy](pretrain-vs-finetune.svg)',
      '',
      'Published anchors (not measured here): a 1-layer Keras encoder MLM-pre-trained on IMDb fine-tunes to 86.3 %; BERT-mini ~90 %, DistilBERT 92.8–93.2 %, BERT-base 93–94 % (those use pretrained weights that cannot be downloaded here).',
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (!args['no-readme']) {
      writeFileSync(join('bench', 'pretrain-vs-finetune.svg'), barChart(`IMDb validation accuracy (${data.counts})`, rows));
      writeReadmeSection('Pre-training vs fine-tuning from scratch (IMDb)', body);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
