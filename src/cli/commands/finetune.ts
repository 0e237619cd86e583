// `geul finetune --base DIR --data SOURCE --out DIR`: fine-tunes a pretrained BERT / DistilBERT / RoBERTa checkpoint
// into a text classifier; the run folder is a Hugging Face model (config.json, tokenizer, model.safetensors).
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { DATA_FORMATS } from '../../train/data/formats.js';
import type { TrainEvent } from '../../train/events.js';
import { finetuneEncoder } from '../../train/pretrained/finetune.js';
import type { FinetuneSpecInput } from '../../train/pretrained/finetune-spec.js';
import { configFromCommand, numberOption, printJson } from '../context.js';
import { createProgress, readingProgress, type Progress } from '../progress.js';

interface FinetuneFlags {
  base?: string; data?: string; valid?: string; text: string; label: string; labels?: string; format?: string; encoding?: string;
  split: string; validSplit: string; emptyText: string; validFraction?: number; maxLength?: number; groupByLength?: boolean;
  epochs: number; batchSize: number; lr: number; warmup: number; weightDecay: number; clipNorm: number; gradAccum: number;
  freezeEmbeddings?: boolean; freezeLayers: number; evalEvery?: number; patience?: number; seed: number; resume?: boolean;
  threads?: number; out?: string; json?: boolean;
}

const FLAG_OF: Record<string, string> = {
  'data.source': 'data', 'data.valid': 'valid', 'data.text': 'text', 'data.label': 'label', 'data.labels': 'labels', 'data.format': 'format',
  'data.encoding': 'encoding', 'data.split': 'split', 'data.validSplit': 'valid-split', 'data.emptyText': 'empty-text',
  'data.validFraction': 'valid-fraction', 'data.maxLength': 'max-length', 'data.groupByLength': 'group-by-length', 'model.base': 'base',
  'model.freezeEmbeddings': 'freeze-embeddings', 'model.freezeLayers': 'freeze-layers', 'optim.lr': 'lr', 'optim.warmup': 'warmup',
  'optim.weightDecay': 'weight-decay', 'optim.clipNorm': 'clip-norm', 'run.epochs': 'epochs', 'run.batchSize': 'batch-size',
  'run.gradAccum': 'grad-accum', 'run.evalEvery': 'eval-every', 'run.patience': 'patience', 'run.seed': 'seed', 'run.resume': 'resume',
  'run.threads': 'threads', 'output.dir': 'out',
};
export const finetuneFlagName = (path: string): string => (FLAG_OF[path] ? `--${FLAG_OF[path]}` : path);

/** The run spec the flags describe (validated by finetuneEncoder through the spec schema); undefined fields dropped. */
export function finetuneSpecFromFlags(f: FinetuneFlags): FinetuneSpecInput {
  const labels = f.labels?.split(',').map((l) => l.trim()).filter((l) => l !== '');
  const spec: FinetuneSpecInput = {
    data: {
      source: f.data as string, valid: f.valid, text: f.text, label: f.label, labels, format: f.format as never, encoding: f.encoding, split: f.split,
      validSplit: f.validSplit, emptyText: f.emptyText as never, validFraction: f.validFraction, maxLength: f.maxLength, groupByLength: f.groupByLength ?? false,
    },
    model: { base: f.base as string, freezeEmbeddings: f.freezeEmbeddings ?? false, freezeLayers: f.freezeLayers },
    optim: { lr: f.lr, warmup: f.warmup, weightDecay: f.weightDecay, clipNorm: f.clipNorm },
    run: { epochs: f.epochs, batchSize: f.batchSize, gradAccum: f.gradAccum, evalEvery: f.evalEvery, patience: f.patience, seed: f.seed, resume: f.resume ?? false, threads: f.threads },
    output: { dir: f.out as string },
  };
  return JSON.parse(JSON.stringify(spec)) as FinetuneSpecInput;
}

/** Seconds as h:mm:ss. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** A progress bar per epoch (steps, loss, examples/s, ETA), epoch lines and warnings on stderr. */
function progressReporter(json: boolean): (e: TrainEvent) => void {
  const reading = readingProgress();
  let bar: Progress | undefined;
  let loss = 0;
  // The epoch bar restarts for the epoch's remaining steps after a line is printed (mid-epoch evaluations, warnings).
  let epoch = { number: 0, epochs: 0, left: 0 };
  let payload: Record<string, string> = { loss: '–', rate: '0', run_eta: '–' };
  const open = () => {
    bar = createProgress(`epoch ${epoch.number}`, epoch.left, `epoch ${epoch.number}/${epoch.epochs} {bar} {percentage}% | {value}/{total} steps | loss {loss} | {rate} ex/s | ETA {eta_formatted}, run {run_eta}`);
    bar.increment(0, payload);
  };
  return (e) => {
    if (e.type === 'read') reading.update(e.done, e.total);
    else if (e.type === 'log') {
      reading.stop();
      bar?.stop();
      process.stderr.write(`geul: ${e.level === 'warning' ? 'warning: ' : ''}${e.message}\n`);
      if (bar && epoch.left > 0) open();
    } else if (e.type === 'start') {
      reading.stop();
      epoch = { number: e.epoch, epochs: e.epochs, left: e.steps };
      open();
    } else if (e.type === 'step') {
      loss = loss === 0 ? e.loss : 0.95 * loss + 0.05 * e.loss;
      payload = { loss: loss.toFixed(4), rate: e.examples_per_s.toFixed(1), run_eta: clock(e.eta_s ?? 0) };
      epoch.left--;
      bar?.increment(1, payload);
    } else if (e.type === 'epoch') {
      bar?.stop();
      bar = undefined;
      if (!json) process.stderr.write(`epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} acc ${e.train_accuracy.toFixed(4)} | valid loss ${e.valid_loss.toFixed(4)} acc ${e.valid_accuracy.toFixed(4)} f1 ${e.valid_f1_macro.toFixed(4)}${e.best ? ' (best, saved)' : ''} | ${e.seconds.toFixed(1)} s, ${e.examples_per_s.toFixed(1)} ex/s\n`);
    } else if (e.type === 'done') {
      bar?.stop();
      if (e.reason === 'cancelled') process.stderr.write(`geul: cancelled after step ${e.step}; the checkpoint in ${e.out} resumes with --resume\n`);
      if (e.reason === 'patience') process.stderr.write(`geul: stopped early (--patience) after step ${e.step}\n`);
    }
  };
}

export function register(program: Command): void {
  program.command('finetune')
    .description('Fine-tune a pretrained BERT, DistilBERT or RoBERTa checkpoint into a text classifier (the output is a Hugging Face model folder)')
    .option('--base <folder>', 'pretrained checkpoint: a folder with config.json, model.safetensors or pytorch_model.bin, and tokenizer.json')
    .option('--data <source>', 'training data: .jsonl, .csv, .tsv, .parquet (text formats may be .gz), an aclImdb-style folder (DIR/<label>/*.txt) or hf://datasets/owner/name')
    .option('--valid <source>', 'validation data (default: a stratified --valid-fraction of --data)')
    .option('--text <column>', 'text column', 'text')
    .option('--label <column>', 'label column', 'label')
    .option('--labels <names>', 'comma-separated class names in order (default: the base model\'s id2label when the data\'s labels are those names, else the sorted data labels)')
    .option('--format <format>', `data format (default from the extension): ${DATA_FORMATS.join(', ')}`)
    .option('--encoding <name>', 'text encoding of the data files (default utf-8; e.g. euc-kr)')
    .option('--split <name>', 'Hub datasets: split of --data', 'train')
    .option('--valid-split <name>', 'Hub datasets: split of --valid', 'validation')
    .option('--valid-fraction <x>', 'share of --data held out for validation when --valid is not given (default 0.2)', numberOption('valid-fraction'))
    .option('--empty-text <how>', 'rows with empty text: skip (with a warning) or error', 'skip')
    .option('--max-length <n>', 'tokens kept per text, special tokens included (default: the model\'s limit, at most 512)', numberOption('max-length'))
    .option('--group-by-length', 'batch texts of similar length together (less padding, faster)')
    .option('--epochs <n>', 'epochs', numberOption('epochs'), 3)
    .option('--batch-size <n>', 'examples per micro-batch', numberOption('batch-size'), 16)
    .option('--grad-accum <n>', 'micro-batches per optimizer step (effective batch = batch size × N)', numberOption('grad-accum'), 1)
    .option('--lr <x>', 'peak learning rate (AdamW)', numberOption('lr'), 2e-5)
    .option('--warmup <x>', 'linear warmup: a fraction of the steps (below 1) or a number of steps; then linear decay to 0', numberOption('warmup'), 0.1)
    .option('--weight-decay <x>', 'AdamW weight decay (biases and LayerNorm weights exempt)', numberOption('weight-decay'), 0.01)
    .option('--clip-norm <x>', 'clip gradients to this global norm (0: no clipping)', numberOption('clip-norm'), 1)
    .option('--freeze-embeddings', 'keep the embeddings fixed')
    .option('--freeze-layers <n>', 'keep the lowest N transformer layers fixed', numberOption('freeze-layers'), 0)
    .option('--eval-every <steps>', 'evaluate every N optimizer steps as well as at each epoch end', numberOption('eval-every'))
    .option('--patience <n>', 'stop after N evaluations without a better validation accuracy', numberOption('patience'))
    .option('--seed <n>', 'random seed (same seed, same run)', numberOption('seed'), 42)
    .option('--resume', 'continue from the checkpoint in --out (also after Ctrl-C)')
    .option('--threads <n>', 'ONNX Runtime threads', numberOption('threads'))
    .option('--out <dir>', 'run folder: the best model (config.json, tokenizer files, model.safetensors), checkpoint.bin, metrics.json, report.html')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  geul finetune --base models/bert-base-uncased --data imdb/train.jsonl --epochs 2 --batch-size 16 --out runs/imdb-bert\n')
    .action(async (flags: FinetuneFlags, cmd: Command) => {
      if (!flags.base || !flags.data || !flags.out) throw geulError('INVALID_INPUT', { detail: '--base, --data and --out are required' });
      // Ctrl-C stops between steps after writing a checkpoint; a second one exits at once.
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await finetuneEncoder(finetuneSpecFromFlags(flags), {
          signal: controller.signal, onEvent: progressReporter(flags.json ?? false), hub: configFromCommand(cmd, { threads: undefined }), optionName: finetuneFlagName,
        });
        if (flags.json) printJson(result);
        else process.stdout.write(`best validation accuracy ${result.best.toFixed(4)}; model in ${result.out}\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
