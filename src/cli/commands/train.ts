// `geul train xor` (perceptron vs MLP) and `geul train --model bow|mlp|rnn|gru|bigru|lstm|bilstm|transformer --data FILE --out DIR`.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import type { TrainEvent } from '../../train/events.js';
import { TEXT_MODEL_TABLE } from '../../train/models/table.js';
import { trainText } from '../../train/run.js';
import { OPTIMIZERS, POOLINGS, TEXT_MODELS, type TrainSpecInput } from '../../train/spec.js';
import { xorDemo } from '../../train/xor.js';
import { DATA_FORMATS } from '../../train/data/formats.js';
import { configFromCommand, numberOption, printJson } from '../context.js';
import { createProgress, readingProgress, type Progress } from '../progress.js';

interface TrainFlags {
  model?: string; data?: string; valid?: string; text: string; label: string; out?: string; epochs: number; batchSize: number;
  lr?: number; optimizer: string; maxLength: number; vocabSize: number; dim?: number; hidden?: number; layers?: number;
  buckets?: number; dropout?: number; pooling?: string; seed: number; patience?: number; resume?: boolean; threads?: number; json?: boolean;
  labels?: string; format?: string; encoding?: string; tokenizer?: string; split: string; validSplit: string; emptyText: string; minCount?: number; lowercase: boolean;
}

/** Spec path → the flag that sets it, so spec errors name the option the user typed. */
const FLAG_OF: Record<string, string> = {
  'data.source': 'data', 'data.valid': 'valid', 'data.text': 'text', 'data.label': 'label', 'data.labels': 'labels', 'data.format': 'format',
  'data.encoding': 'encoding', 'data.split': 'split', 'data.validSplit': 'valid-split', 'data.emptyText': 'empty-text', 'data.minCount': 'min-count',
  'data.lowercase': 'no-lowercase', 'data.tokenizer': 'tokenizer', 'data.maxLength': 'max-length', 'data.vocabSize': 'vocab-size',
  'model.name': 'model', 'model.dim': 'dim', 'model.hidden': 'hidden', 'model.layers': 'layers', 'model.buckets': 'buckets',
  'model.dropout': 'dropout', 'model.pooling': 'pooling', 'optim.name': 'optimizer', 'optim.lr': 'lr', 'run.epochs': 'epochs',
  'run.batchSize': 'batch-size', 'run.seed': 'seed', 'run.patience': 'patience', 'run.resume': 'resume', 'run.threads': 'threads', 'output.dir': 'out',
};
export const flagName = (path: string): string => (FLAG_OF[path] ? `--${FLAG_OF[path]}` : path);

/** The run spec the flags describe (validated by trainText through the spec schema). */
export function specFromFlags(flags: TrainFlags): TrainSpecInput {
  const labels = flags.labels?.split(',').map((l) => l.trim()).filter((l) => l !== '');
  return {
    data: {
      source: flags.data as string, valid: flags.valid, text: flags.text, label: flags.label, labels, format: flags.format as never, encoding: flags.encoding,
      split: flags.split, validSplit: flags.validSplit, emptyText: flags.emptyText as never, minCount: flags.minCount as number, lowercase: flags.lowercase,
      tokenizer: flags.tokenizer, maxLength: flags.maxLength, vocabSize: flags.vocabSize,
    },
    model: { name: flags.model as never, dim: flags.dim, hidden: flags.hidden, layers: flags.layers, buckets: flags.buckets, dropout: flags.dropout, pooling: flags.pooling as never },
    optim: { name: flags.optimizer as never, lr: flags.lr },
    run: { epochs: flags.epochs, batchSize: flags.batchSize, seed: flags.seed, patience: flags.patience, resume: flags.resume ?? false, threads: flags.threads },
    output: { dir: flags.out as string },
  };
}

/** Drops undefined fields, so the schema's defaults apply to what the user left out. */
function defined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Progress bars and epoch lines on stderr, driven by the run's events. */
function progressReporter(json: boolean): (e: TrainEvent) => void {
  const reading = readingProgress();
  let bar: Progress | undefined;
  let loss = 0;
  let acc = 0;
  return (e) => {
    if (e.type === 'read') reading.update(e.done, e.total);
    else if (e.type === 'log') process.stderr.write(`geul: ${e.level === 'warning' ? 'warning: ' : ''}${e.message}\n`);
    else if (e.type === 'start') {
      reading.stop();
      bar = createProgress(`epoch ${e.epoch}`, e.steps, `epoch ${e.epoch} {bar} {percentage}% | loss {loss} | acc {acc} | {rate} ex/s | ETA {eta_formatted}`);
    } else if (e.type === 'step') {
      loss = loss === 0 ? e.loss : 0.98 * loss + 0.02 * e.loss;
      acc = acc === 0 ? e.accuracy : 0.98 * acc + 0.02 * e.accuracy;
      bar?.increment(1, { loss: loss.toFixed(4), acc: acc.toFixed(3), rate: e.examples_per_s.toFixed(0) });
    } else if (e.type === 'epoch') {
      bar?.stop();
      if (!json) process.stderr.write(`epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} acc ${e.train_accuracy.toFixed(4)} | valid acc ${e.valid_accuracy.toFixed(4)} f1 ${e.valid_f1_macro.toFixed(4)} | ${e.seconds.toFixed(1)} s, ${e.examples_per_s.toFixed(0)} ex/s\n`);
    } else if (e.type === 'done') {
      bar?.stop();
      if (e.reason === 'cancelled') process.stderr.write(`geul: cancelled after step ${e.step}; the checkpoint in ${e.out} resumes with --resume\n`);
    }
  };
}

export function register(program: Command): void {
  program.command('train [example]')
    .description('Train a text classifier from scratch (or `geul train xor`: a perceptron fails on XOR, an MLP solves it)')
    .option('--model <name>', `model: ${TEXT_MODELS.map((m) => `${m} (${TEXT_MODEL_TABLE[m].description})`).join('; ')}`)
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
    .option('--min-count <n>', 'drop words seen fewer times in the training rows', numberOption('min-count'))
    .option('--no-lowercase', 'keep the case of words (default: lower-case)')
    .option('--tokenizer <model>', 'use this pretrained tokenizer (a local folder or hub id with tokenizer.json: WordPiece, BPE …) instead of a word vocabulary')
    .option('--out <dir>', 'output folder (model, checkpoint, metrics.json)')
    .option('--epochs <n>', 'epochs (1 or more)', numberOption('epochs'), 5)
    .option('--batch-size <n>', 'examples per step (1 or more)', numberOption('batch-size'), 32)
    .option('--lr <x>', 'learning rate (default per model)', numberOption('lr'))
    .option('--optimizer <name>', OPTIMIZERS.join(', '), 'adam')
    .option('--max-length <n>', 'tokens kept per text', numberOption('max-length'), 256)
    .option('--vocab-size <n>', 'most frequent words kept', numberOption('vocab-size'), 30000)
    .option('--dim <n>', 'embedding size (transformer: model width; heads = width / 64)', numberOption('dim'))
    .option('--hidden <n>', 'recurrent state size (mlp: hidden layer width, transformer: feed-forward width)', numberOption('hidden'))
    .option('--layers <n>', 'stacked recurrent layers (mlp: hidden layers, transformer: encoder layers)', numberOption('layers'))
    .option('--pooling <how>', `recurrent models: ${POOLINGS.join(', ')} (default last state)`)
    .option('--buckets <n>', 'bigram hash buckets for bow (0: unigrams only)', numberOption('buckets'))
    .option('--dropout <x>', 'dropout rate, 0 ≤ x < 1', numberOption('dropout'))
    .option('--seed <n>', 'random seed (same seed, same run)', numberOption('seed'), 42)
    .option('--patience <n>', 'stop after N epochs without a better validation accuracy', numberOption('patience'))
    .option('--resume', 'continue from the checkpoint in --out (also after Ctrl-C)')
    .option('--threads <n>', 'ONNX Runtime threads', numberOption('threads'))
    .option('--json', 'print the result as JSON')
    .action(async (example: string | undefined, flags: TrainFlags, cmd: Command) => {
      if (example === 'xor') {
        const r = await xorDemo({ seed: flags.seed === 42 ? 1 : flags.seed });
        if (flags.json) printJson({ perceptron: r.perceptron, mlp: r.mlp });
        else for (const [name, v] of Object.entries(r)) process.stdout.write(`${name}: accuracy ${v.accuracy} (loss ${v.loss.toFixed(4)} after ${v.steps} steps)\n`);
        return;
      }
      if (example) throw geulError('INVALID_INPUT', { detail: `unknown example "${example}" (try: xor)` });
      if (!flags.model) throw geulError('INVALID_INPUT', { detail: `--model is required: one of ${TEXT_MODELS.join(', ')}` });
      if (!flags.data || !flags.out) throw geulError('INVALID_INPUT', { detail: '--data and --out are required' });
      // Ctrl-C stops between steps after writing a checkpoint; a second one exits at once.
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await trainText(defined(specFromFlags(flags)), {
          signal: controller.signal, onEvent: progressReporter(flags.json ?? false), hub: configFromCommand(cmd, { threads: undefined }), optionName: flagName,
        });
        if (flags.json) printJson(result);
        else process.stdout.write(`best validation accuracy ${result.best.toFixed(4)}; model in ${result.out}\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
