// `geul eval --model M --data FILE`: accuracy, P/R/F1, confusion matrix and ROC-AUC of any classification model.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { ModelStore } from '../../runtime/models.js';
import { classifyTask } from '../../tasks/classify.js';
import { loadExamples } from '../../train/data/dataset.js';
import { DATA_FORMATS, type DataFormat } from '../../train/data/formats.js';
import { evaluateClassifier, type EvalResult } from '../../train/eval.js';
import { configFromCommand, printJson } from '../context.js';
import { createProgress, readingProgress } from '../progress.js';

interface EvalFlags {
  model: string; data: string; text: string; label: string; labels?: string; format?: string; encoding?: string; split: string;
  limit?: string; batchSize: string; longText: string; emptyText: string; json?: boolean;
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw geulError('INVALID_INPUT', { detail: `--${name} must be a whole number >= 1, got "${value}"` });
  return n;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw geulError('INVALID_INPUT', { detail: `--${name} must be one of ${allowed.join(', ')}, got "${value}"` });
  return value as T;
}

const f = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : '–');

/** A readable summary: headline numbers, the per-class table and the confusion matrix. */
export function formatEval(r: EvalResult & { model: string; data: string }): string {
  const width = Math.max(8, ...r.labels.map((l) => l.length));
  const pad = (s: string) => s.padStart(width);
  const lines = [
    `model ${r.model} on ${r.data}: ${r.examples} examples`,
    `accuracy  ${f(r.accuracy)}`,
    `macro F1  ${f(r.f1_macro)}  (precision ${f(r.precision)}, recall ${f(r.recall)})`,
    ...(r.roc_auc !== undefined ? [`ROC-AUC   ${f(r.roc_auc)}`] : []),
    '',
    `${pad('label')}  precision     recall         F1    support`,
    ...r.labels.map((l) => {
      const c = r.per_class[l];
      return `${pad(l)}  ${f(c.precision).padStart(9)}  ${f(c.recall).padStart(9)}  ${f(c.f1).padStart(9)}  ${String(c.support).padStart(9)}`;
    }),
    '',
    'confusion matrix (rows: true label, columns: predicted)',
    `${pad('')}  ${r.labels.map(pad).join('  ')}`,
    ...r.confusion.map((row, i) => `${pad(r.labels[i])}  ${row.map((n) => pad(String(n))).join('  ')}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program.command('eval')
    .description('Score a classification model (trained here or pretrained) on a labelled file: accuracy, precision/recall/F1, confusion matrix, ROC-AUC')
    .requiredOption('-m, --model <id>', 'hub model id or a local model folder (e.g. a `geul train --out` folder)')
    .requiredOption('--data <source>', 'labelled data: .jsonl, .csv, .tsv, .parquet, an aclImdb-style folder, or hf://datasets/owner/name')
    .option('--text <column>', 'text column', 'text')
    .option('--label <column>', 'label column', 'label')
    .option('--labels <names>', 'comma-separated names for the data labels in order (label i → i-th name), matched to the model\'s labels')
    .option('--format <format>', `data format (default from the extension): ${DATA_FORMATS.join(', ')}`)
    .option('--encoding <name>', 'text encoding of the data file (default utf-8; e.g. euc-kr)')
    .option('--split <name>', 'Hub datasets: the split to read', 'test')
    .option('--limit <n>', 'score only the first n examples')
    .option('--batch-size <n>', 'texts per model call', '64')
    .option('--long-text <how>', 'texts longer than the model maximum: truncate or chunk', 'truncate')
    .option('--empty-text <how>', 'rows with empty text: skip (with a warning) or error', 'skip')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', '\nData labels are matched to the model\'s labels by name (case-insensitively), or as 0-based indices when they are integers\nand the model\'s labels are not (0 → id2label["0"]). Use --labels to name the data\'s labels first.\n\nExample:\n  $ geul eval --model runs/sst2 --data dev.tsv --text sentence --label label --json\n')
    .action(async (flags: EvalFlags, cmd: Command) => {
      const config = configFromCommand(cmd);
      const format = flags.format === undefined ? undefined : oneOf<DataFormat>('format', flags.format, DATA_FORMATS);
      const longText = oneOf('long-text', flags.longText, ['truncate', 'chunk'] as const);
      const emptyText = oneOf('empty-text', flags.emptyText, ['skip', 'error'] as const);
      const labels = flags.labels?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const reading = readingProgress();
      // Integer labels the file names (Hugging Face ClassLabel) are matched to the model's labels by those names.
      let declared: string[] | undefined;
      const examples = await loadExamples(flags.data, {
        onLabelNames: (names) => (declared = names),
        text: flags.text, label: flags.label, format, encoding: flags.encoding, split: flags.split, hub: config, limit: count('limit', flags.limit), emptyText,
        onWarning: (message) => process.stderr.write(`geul: warning: ${message}\n`), onProgress: reading.update,
      }).finally(() => reading.stop());
      if (examples.length === 0) throw geulError('DATA_INVALID', { path: flags.data, where: '', detail: 'no examples to evaluate' });
      const models = new ModelStore(config);
      try {
        const loaded = await models.load(flags.model, classifyTask.kind, classifyTask.id);
        const progress = createProgress('eval', examples.length);
        const result = await evaluateClassifier(loaded, examples, {
          labels: labels?.length ? labels : declared, longText, batchSize: count('batch-size', flags.batchSize), source: flags.data, onItemDone: () => progress.increment(),
        });
        progress.stop();
        const { accuracy, f1_macro, precision, recall, per_class, confusion, roc_auc, examples: n, labels: names, f1_weighted, label_map } = result;
        const out = { accuracy, f1_macro, precision, recall, per_class, confusion, ...(roc_auc !== undefined && { roc_auc }), examples: n, labels: names, f1_weighted, label_map, model: flags.model, data: flags.data };
        if (flags.json) printJson(out);
        else process.stdout.write(formatEval({ ...result, model: flags.model, data: flags.data }));
      } finally {
        await models.dispose();
      }
    });
}
