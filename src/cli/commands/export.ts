// `geul export --model <hub id or folder> --task classify|fill-mask|embeddings --out DIR`: a checkpoint → a transformers.js-ready ONNX folder.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import type { DownloadProgress } from '../../core/hub.js';
import { SUPPORTED_MODEL_TYPES } from '../../train/pretrained/config.js';
import { EXPORT_TASKS, type ExportTask } from '../../train/pretrained/export.js';
import { exportCheckpoint, type ExportResult, type ExportStage } from '../../train/pretrained/export-folder.js';
import { configFromCommand, printJson } from '../context.js';
import { createProgress } from '../progress.js';
import { downloadBars, formatBytes } from './models.js';

interface ExportFlags { model: string; task: string; out: string; json?: boolean }

const STAGES: ExportStage[] = ['resolving', 'loading', 'exporting', 'finishing'];

export function summary(r: ExportResult): string {
  return [
    `exported ${r.architecture} (${r.task}) to ${r.out}`,
    `  onnx/model.onnx            ${formatBytes(r.sizes.fp32)}  (fp32)`,
    `  onnx/model_quantized.onnx  ${formatBytes(r.sizes.q8)}  (int8, --dtype q8)`,
    `  also: ${r.files.filter((f) => !f.startsWith('onnx/')).join(', ')}`,
    // transformers.js tokenises with tokenizer.json; without it the folder exports but no task can load it.
    ...(r.files.includes('tokenizer.json') ? [] : ['  note: the checkpoint has no tokenizer.json; add one (and tokenizer_config.json) before serving the folder']),
  ].join('\n');
}

export function register(program: Command): void {
  program.command('export')
    .description('Export a Hugging Face encoder checkpoint (BERT, DistilBERT, RoBERTa, XLM-R) to a transformers.js-ready ONNX folder (fp32 + int8)')
    .requiredOption('-m, --model <id>', 'hub model id or a local checkpoint folder (config.json + model.safetensors or pytorch_model.bin)')
    .requiredOption('--task <task>', `what the exported model does: ${EXPORT_TASKS.join(', ')}`)
    .requiredOption('--out <dir>', 'output folder (must not exist or be empty; written atomically)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', [
      '',
      `Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
      'Tasks: classify (…ForSequenceClassification, output logits [batch, labels]), fill-mask (…ForMaskedLM, logits',
      '[batch, seq, vocab]), embeddings (the base encoder, last_hidden_state [batch, seq, hidden]; any checkpoint).',
      'The folder gets config.json, the checkpoint\'s tokenizer files, onnx/model.onnx and onnx/model_quantized.onnx; serve it',
      'with e.g. `geul sentiment --model DIR --dtype q8`. Uses the global --revision, --hub-url and --offline.',
      '',
      'Examples:',
      '  $ geul export --model distilbert/distilbert-base-uncased-finetuned-sst-2-english --task classify --out models/sst2',
      '  $ geul export --model klue/bert-base --task embeddings --out models/klue-bert',
      '  $ geul export --model runs/imdb --task classify --out models/imdb',
      '',
    ].join('\n'))
    .action(async (flags: ExportFlags, cmd: Command) => {
      if (!(EXPORT_TASKS as readonly string[]).includes(flags.task)) {
        throw geulError('INVALID_INPUT', { detail: `--task must be one of ${EXPORT_TASKS.join(', ')}, got "${flags.task}"` });
      }
      const config = configFromCommand(cmd);
      const bars = downloadBars();
      // Stopped once, and only when something was downloaded: a second stop redraws the bars.
      let downloading = false;
      const downloads = {
        onProgress: bars.onProgress && ((p: DownloadProgress) => { downloading = true; bars.onProgress!(p); }),
        stop: () => { if (downloading) bars.stop(); downloading = false; },
      };
      let steps: ReturnType<typeof createProgress> | undefined;
      let result: ExportResult;
      try {
        result = await exportCheckpoint({
          model: flags.model, task: flags.task as ExportTask, out: flags.out, hub: config, onProgress: downloads.onProgress,
          onStage: (stage) => {
            if (stage === 'loading') downloads.stop();
            // Steps: fetch the checkpoint, read the weights, build and quantise the graphs, copy config and tokenizer.
            steps ??= createProgress('export', STAGES.length, 'export {bar} {value}/{total} steps');
            if (stage !== 'resolving') steps.increment(1);
          },
        });
        steps?.increment(1);
      } finally {
        downloads.stop();
        steps?.stop();
      }
      if (flags.json) printJson(result);
      else process.stdout.write(`${summary(result)}\n`);
    });
}
