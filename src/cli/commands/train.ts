// `geul train xor` (perceptron vs MLP) and `geul train --model bow|mlp|rnn|gru|bigru|lstm|bilstm|transformer --data FILE --out DIR`.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { POOLINGS, TEXT_MODELS, trainText, type TextModelName } from '../../train/run.js';
import type { Pooling } from '../../train/models/text.js';
import { xorDemo } from '../../train/xor.js';
import { DATA_FORMATS, type DataFormat } from '../../train/data/formats.js';
import { configFromCommand, printJson } from '../context.js';
import { createProgress, readingProgress, type Progress } from '../progress.js';

function num(name: string, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw geulError('INVALID_INPUT', { detail: `--${name} must be a ${integer ? 'whole' : 'non-negative'} number, got "${value}"` });
    return n;
  };
}

interface TrainFlags {
  model?: string; data?: string; valid?: string; text: string; label: string; out?: string; epochs: number; batchSize: number;
  lr?: number; optimizer?: 'sgd' | 'adam' | 'adamw'; maxLength: number; vocabSize: number; dim?: number; hidden?: number; layers?: number;
  buckets?: number; dropout?: number; pooling?: string; seed: number; patience?: number; resume?: boolean; threads?: number; json?: boolean;
  labels?: string; format?: string; encoding?: string; tokenizer?: string; split: string; validSplit: string; emptyText: string; minCount?: number; lowercase: boolean;
}

export function register(program: Command): void {
  program.command('train [example]')
    .description('Train a text classifier from scratch (or `geul train xor`: a perceptron fails on XOR, an MLP solves it)')
    .option('--model <name>', `model: ${TEXT_MODELS.join(', ')}`)
    .option('--data <source>', 'training data: .jsonl, .csv, .tsv, .parquet (text formats may be .gz), an aclImdb-style folder (DIR/<label>/*.txt) or hf://datasets/owner/name')
    .option('--valid <source>', 'validation data (default: a stratified 20 % of --data)')
    .option('--text <column>', 'text column', 'text')
    .option('--label <column>', 'label column', 'label')
    .option('--labels <names>', 'comma-separated class names in order; data labels match them by name or as 0-based integers (default: the sorted data labels)')
    .option('--format <format>', `data format (default from the extension): ${DATA_FORMATS.join(', ')}`)
    .option('--encoding <name>', 'text encoding of the data files (default utf-8; e.g. euc-kr)')
    .option('--split <name>', 'Hub datasets: split of --data', 'train')
    .option('--valid-split <name>', 'Hub datasets: split of --valid', 'validation')
    .option('--empty-text <how>', 'rows with empty text: skip (with a warning) or error', 'skip')
    .option('--min-count <n>', 'drop words seen fewer times in the training rows', num('min-count', true))
    .option('--no-lowercase', 'keep the case of words (default: lower-case)')
    .option('--tokenizer <model>', 'use this pretrained tokenizer (a local folder or hub id with tokenizer.json: WordPiece, BPE …) instead of a word vocabulary')
    .option('--out <dir>', 'output folder (model, checkpoint, metrics.json)')
    .option('--epochs <n>', 'epochs', num('epochs', true), 5)
    .option('--batch-size <n>', 'examples per step', num('batch-size', true), 32)
    .option('--lr <x>', 'learning rate (default per model)', num('lr'))
    .option('--optimizer <name>', 'sgd, adam or adamw', 'adam')
    .option('--max-length <n>', 'tokens kept per text', num('max-length', true), 256)
    .option('--vocab-size <n>', 'most frequent words kept', num('vocab-size', true), 30000)
    .option('--dim <n>', 'embedding size (transformer: model width; heads = width / 64)', num('dim', true))
    .option('--hidden <n>', 'recurrent state size (mlp: hidden layer width, transformer: feed-forward width)', num('hidden', true))
    .option('--layers <n>', 'stacked recurrent layers (mlp: hidden layers, transformer: encoder layers)', num('layers', true))
    .option('--pooling <how>', `recurrent models: ${POOLINGS.join(', ')} (default last state)`)
    .option('--buckets <n>', 'bigram hash buckets for bow (0: unigrams only)', num('buckets', true))
    .option('--dropout <x>', 'dropout rate', num('dropout'))
    .option('--seed <n>', 'random seed (same seed, same run)', num('seed', true), 42)
    .option('--patience <n>', 'stop after N epochs without a better validation accuracy', num('patience', true))
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--threads <n>', 'ONNX Runtime threads', num('threads', true))
    .option('--json', 'print the result as JSON')
    .action(async (example: string | undefined, flags: TrainFlags, cmd: Command) => {
      if (example === 'xor') {
        const r = await xorDemo({ seed: flags.seed === 42 ? 1 : flags.seed });
        if (flags.json) printJson({ perceptron: r.perceptron, mlp: r.mlp });
        else for (const [name, v] of Object.entries(r)) process.stdout.write(`${name}: accuracy ${v.accuracy} (loss ${v.loss.toFixed(4)} after ${v.steps} steps)\n`);
        return;
      }
      if (example) throw geulError('INVALID_INPUT', { detail: `unknown example "${example}" (try: xor)` });
      if (!flags.model || !(TEXT_MODELS as readonly string[]).includes(flags.model)) throw geulError('INVALID_INPUT', { detail: `--model must be one of ${TEXT_MODELS.join(', ')}` });
      if (!flags.data || !flags.out) throw geulError('INVALID_INPUT', { detail: '--data and --out are required' });
      if (flags.pooling !== undefined && !POOLINGS.includes(flags.pooling as Pooling)) throw geulError('INVALID_INPUT', { detail: `--pooling must be one of ${POOLINGS.join(', ')}` });
      if (flags.format !== undefined && !(DATA_FORMATS as readonly string[]).includes(flags.format)) throw geulError('INVALID_INPUT', { detail: `--format must be one of ${DATA_FORMATS.join(', ')}` });
      if (flags.emptyText !== 'skip' && flags.emptyText !== 'error') throw geulError('INVALID_INPUT', { detail: '--empty-text must be skip or error' });
      const reading = readingProgress();
      const data = {
        labels: flags.labels?.split(',').map((l) => l.trim()).filter((l) => l !== ''), format: flags.format as DataFormat | undefined,
        emptyText: flags.emptyText as 'skip' | 'error', hub: configFromCommand(cmd, { threads: undefined }),
        onWarning: (message: string) => process.stderr.write(`geul: warning: ${message}\n`), onProgress: reading.update,
      };
      let bar: Progress | undefined;
      let loss = 0;
      let acc = 0;
      const result = await trainText({ ...flags, ...data, model: flags.model as TextModelName, data: flags.data, out: flags.out, pooling: flags.pooling as Pooling | undefined }, {
        onStart: (info) => {
          reading.stop();
          bar = createProgress(`epoch ${info.epoch}`, info.examples, `epoch ${info.epoch} {bar} {percentage}% | loss {loss} | acc {acc} | {rate} ex/s | ETA {eta_formatted}`);
        },
        onStep: (s) => {
          loss = loss === 0 ? s.loss : 0.98 * loss + 0.02 * s.loss;
          acc = acc === 0 ? s.accuracy : 0.98 * acc + 0.02 * s.accuracy;
          bar?.increment(s.examples, { loss: loss.toFixed(4), acc: acc.toFixed(3) });
        },
        onEpoch: (r) => {
          bar?.stop();
          if (!flags.json) process.stderr.write(`epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)} acc ${r.trainAccuracy.toFixed(4)} | valid acc ${r.validAccuracy.toFixed(4)} f1 ${r.validF1Macro.toFixed(4)} | ${r.seconds.toFixed(1)} s, ${r.examplesPerSecond.toFixed(0)} ex/s\n`);
        },
      });
      if (flags.json) printJson(result);
      else process.stdout.write(`best validation accuracy ${result.best.toFixed(4)}; model in ${result.out}\n`);
    });
}
