// `geul pretrain`: masked-LM pre-training of a BERT encoder from scratch or from a checkpoint, on unlabelled text.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { DOCUMENT_UNITS } from '../../train/pretrained/mlm-corpus.js';
import { pretrainEncoder } from '../../train/pretrained/pretrain.js';
import type { PretrainEvent } from '../../train/pretrained/pretrain-events.js';
import type { PretrainSpecInput } from '../../train/pretrained/pretrain-spec.js';
import { ENCODER_SIZES } from '../../train/pretrained/sizes.js';
import { configFromCommand, numberOption, printJson } from '../context.js';
import { createProgress, type Progress } from '../progress.js';

interface PretrainFlags {
  size?: string; base?: string; tokenizer?: string; vocabSize?: number; data?: string[]; text: string; documents: string; stripGutenberg?: boolean;
  heldOut: number; steps: number; batchSize: number; maxLength: number; lr: number; warmup: number; weightDecay: number; clipNorm: number;
  dropout: number; mask: number; wholeWord?: boolean; lowercase: boolean; stripAccents?: boolean; minFrequency: number; seed: number;
  evalEvery?: number; checkpointEvery?: number; resume?: boolean; threads?: number; out?: string; json?: boolean;
}

/** Spec path → the flag that sets it, so spec errors name the option the user typed. */
const FLAG_OF: Record<string, string> = {
  'data.sources': 'data', 'data.text': 'text', 'data.documents': 'documents', 'data.stripGutenberg': 'strip-gutenberg', 'data.heldOutFraction': 'held-out',
  'model.size': 'size', 'model.base': 'base', 'model.tokenizer': 'tokenizer', 'model.vocabSize': 'vocab-size', 'model.lowercase': 'no-lowercase',
  'model.stripAccents': 'strip-accents', 'model.minFrequency': 'min-frequency', 'model.dropout': 'dropout', 'masking.probability': 'mask',
  'masking.wholeWord': 'whole-word', 'optim.lr': 'lr', 'optim.warmup': 'warmup', 'optim.weightDecay': 'weight-decay', 'optim.clipNorm': 'clip-norm',
  'run.steps': 'steps', 'run.batchSize': 'batch-size', 'run.maxLength': 'max-length', 'run.seed': 'seed', 'run.evalEvery': 'eval-every',
  'run.checkpointEvery': 'checkpoint-every', 'run.resume': 'resume', 'run.threads': 'threads', 'output.dir': 'out',
};
export const pretrainFlagName = (path: string): string => (FLAG_OF[path] ? `--${FLAG_OF[path]}` : path);

/** The spec the flags describe (validated by pretrainEncoder through the spec schema). */
export function pretrainSpecFromFlags(flags: PretrainFlags): PretrainSpecInput {
  const spec: PretrainSpecInput = {
    data: { sources: flags.data ?? [], text: flags.text, documents: flags.documents as never, stripGutenberg: flags.stripGutenberg ?? false, heldOutFraction: flags.heldOut },
    model: {
      size: flags.size as never, base: flags.base, tokenizer: flags.tokenizer, vocabSize: flags.vocabSize, lowercase: flags.lowercase,
      stripAccents: flags.stripAccents ?? false, minFrequency: flags.minFrequency, dropout: flags.dropout,
    },
    masking: { probability: flags.mask, wholeWord: flags.wholeWord ?? false },
    optim: { lr: flags.lr, warmup: flags.warmup, weightDecay: flags.weightDecay, clipNorm: flags.clipNorm },
    run: {
      steps: flags.steps, batchSize: flags.batchSize, maxLength: flags.maxLength, seed: flags.seed, evalEvery: flags.evalEvery,
      checkpointEvery: flags.checkpointEvery, resume: flags.resume ?? false, threads: flags.threads,
    },
    output: { dir: flags.out as string },
  };
  // Drops undefined fields, so the schema's defaults apply to what the user left out.
  return JSON.parse(JSON.stringify(spec)) as PretrainSpecInput;
}

/** A progress bar with loss and tokens/s, and a line per evaluation, on stderr. */
function progressReporter(json: boolean): (e: PretrainEvent) => void {
  let bar: Progress | undefined;
  let vocabBar: Progress | undefined;
  let merged = 0;
  let loss = 0;
  // Documents read: counted, as the total is unknown until the corpus ends.
  let counter: Progress | undefined;
  let counted = 0;
  const count = (label: string, done: number) => {
    counter ??= createProgress(label, 0, `${label} {value} documents | {rate}/s`);
    counter.increment(done - counted);
    counted = done;
  };
  const stopCounter = () => {
    counter?.stop();
    counter = undefined;
    counted = 0;
  };
  return (e) => {
    if (e.type === 'vocab' && e.stage === 'count') count('counting words', e.done);
    else if (e.type === 'read') {
      vocabBar?.stop();
      vocabBar = undefined;
      count('encoding', e.documents);
    }
    else if (e.type === 'vocab' && e.stage === 'merge') {
      stopCounter();
      vocabBar ??= createProgress('vocabulary', e.total, 'vocabulary {bar} {percentage}% | {value}/{total} merges | ETA {eta_formatted}');
      vocabBar.increment(e.done - merged);
      merged = e.done;
    } else if (e.type === 'log') process.stderr.write(`geul: ${e.level === 'warning' ? 'warning: ' : ''}${e.message}\n`);
    else if (e.type === 'start') {
      vocabBar?.stop();
      stopCounter();
      if (!json) process.stderr.write(`pre-training ${(e.parameters / 1e6).toFixed(2)} M parameters on ${e.sequences} sequences (${e.tokens} tokens, ${e.documents} documents; ${e.held_out_sequences} held out), vocabulary ${e.vocab_size}\n`);
      bar = createProgress('pretrain', e.total, 'pretrain {bar} {percentage}% | {value}/{total} steps | loss {loss} | held-out {mlm} | {tps} tok/s | ETA {eta_formatted}');
      bar.increment(e.step, { loss: '-', tps: '-', mlm: '-' });
    } else if (e.type === 'step') {
      loss = loss === 0 ? e.loss : 0.95 * loss + 0.05 * e.loss;
      bar?.increment(1, { loss: loss.toFixed(4), tps: e.tokens_per_s.toFixed(0) });
    } else if (e.type === 'eval') {
      bar?.increment(0, { mlm: `${e.mlm_loss.toFixed(3)} (acc ${e.masked_accuracy.toFixed(3)})` });
      // Without a terminal there is no bar: one line per evaluation instead.
      if (!json && !process.stderr.isTTY) process.stderr.write(`step ${e.step}: train loss ${e.train_loss.toFixed(4)} | held-out MLM loss ${e.mlm_loss.toFixed(4)}, masked accuracy ${e.masked_accuracy.toFixed(4)}\n`);
    } else if (e.type === 'done') {
      bar?.stop();
      if (e.reason === 'cancelled') process.stderr.write(`geul: cancelled after step ${e.step}; the checkpoint in ${e.out} resumes with --resume\n`);
    }
  };
}

export function register(program: Command): void {
  program.command('pretrain')
    .description('Pre-train a BERT encoder with masked-LM on unlabelled text (from scratch or continuing a checkpoint); the output fine-tunes with `geul finetune --base`')
    .option('--size <size>', `from scratch: ${ENCODER_SIZES.join(', ')} (tiny 2×64, mini 4×256, small 4×512, base 12×768; layers × hidden)`)
    .option('--base <model>', 'continue pre-training this checkpoint, a folder or hub id (domain adaptation); its tokenizer is used')
    .option('--tokenizer <model>', 'use this tokenizer (a folder or hub id with tokenizer.json) instead of training one')
    .option('--vocab-size <n>', 'train a WordPiece vocabulary of N tokens on the corpus (from scratch)', numberOption('vocab-size'))
    .option('--data <sources...>', 'corpus: text files (one document per line), .jsonl/.csv/.tsv/.parquet with --text, folders of them')
    .option('--text <column>', 'text column of table files', 'text')
    .option('--documents <unit>', `what one document of a text file is: ${DOCUMENT_UNITS.join(', ')}`, 'line')
    .option('--strip-gutenberg', 'drop Project Gutenberg headers and footers')
    .option('--held-out <fraction>', 'share of documents held out for the MLM loss and masked accuracy', numberOption('held-out'), 0.05)
    .option('--steps <n>', 'optimisation steps', numberOption('steps'), 1000)
    .option('--batch-size <n>', 'sequences per step', numberOption('batch-size'), 32)
    .option('--max-length <n>', 'sequence length the corpus is packed to ([CLS] and [SEP] included)', numberOption('max-length'), 128)
    .option('--lr <x>', 'peak learning rate (AdamW, linear warmup and decay)', numberOption('lr'), 5e-4)
    .option('--warmup <x>', 'warmup: a fraction of --steps (< 1) or a step count', numberOption('warmup'), 0.06)
    .option('--weight-decay <x>', 'AdamW weight decay (not for biases and LayerNorm)', numberOption('weight-decay'), 0.01)
    .option('--clip-norm <x>', 'clip gradients to this global norm (0: off)', numberOption('clip-norm'), 1)
    .option('--dropout <x>', 'from scratch: hidden and attention dropout', numberOption('dropout'), 0.1)
    .option('--mask <p>', 'share of tokens predicted (80 % [MASK], 10 % random, 10 % kept)', numberOption('mask'), 0.15)
    .option('--whole-word', 'mask whole words (all ## pieces together)')
    .option('--no-lowercase', 'trained vocabulary: keep case')
    .option('--strip-accents', 'trained vocabulary: remove accents (also turns Hangul into jamo)')
    .option('--min-frequency <n>', 'trained vocabulary: least count of a merged pair', numberOption('min-frequency'), 2)
    .option('--seed <n>', 'random seed (same seed, same run)', numberOption('seed'), 42)
    .option('--eval-every <n>', 'steps between held-out evaluations (default: a tenth of --steps)', numberOption('eval-every'))
    .option('--checkpoint-every <n>', 'steps between checkpoints (default: at each evaluation)', numberOption('checkpoint-every'))
    .option('--resume', 'continue from the checkpoint in --out (also after Ctrl-C)')
    .option('--threads <n>', 'ONNX Runtime threads', numberOption('threads'))
    .option('--out <dir>', 'output folder: a Hugging Face BertForMaskedLM checkpoint (config.json, tokenizer, model.safetensors, metrics.json) that geul fill-mask serves (onnx/)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  geul pretrain --size mini --vocab-size 8000 --data books/ reviews.jsonl --steps 5000 --out runs/mlm
  geul pretrain --base runs/mlm --data domain.txt --steps 1000 --lr 1e-4 --out runs/mlm-domain
  geul finetune --base runs/mlm --data train.jsonl --out runs/cls`)
    .action(async (flags: PretrainFlags, cmd: Command) => {
      if (!flags.data?.length || !flags.out) throw geulError('INVALID_INPUT', { detail: '--data and --out are required' });
      // Ctrl-C stops between steps after writing a checkpoint; a second one exits at once.
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await pretrainEncoder(pretrainSpecFromFlags(flags), { signal: controller.signal, onEvent: progressReporter(flags.json ?? false), optionName: pretrainFlagName, hub: configFromCommand(cmd, { threads: undefined }) });
        const final = result.history.at(-1);
        if (flags.json) printJson(result);
        else if (result.reason === 'completed') {
          process.stdout.write(`held-out MLM loss ${final?.loss.toFixed(4) ?? '-'}, masked accuracy ${final?.accuracy.toFixed(4) ?? '-'}, ${result.tokensPerSecond.toFixed(0)} tokens/s; model in ${result.out}\n`);
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
