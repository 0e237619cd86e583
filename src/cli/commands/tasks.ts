// Generates one CLI command per registry task (`geul sentiment`, `geul generate`, …) from its request schema.
import type { Command } from 'commander';

import { TASKS } from '../../tasks/registry.js';
import type { AnyTask } from '../../tasks/types.js';
import { ModelStore } from '../../runtime/models.js';
import { streamGenerate, type GenerateRequestOptions } from '../../tasks/generate.js';
import { modelLanguages } from '../../tasks/translate.js';
import { similarityMatrix } from '../../tasks/embeddings.js';
import { prepareRequest } from '../../tasks/run.js';
import { configFromCommand, printJson } from '../context.js';
import { chunked, readLines, textSource } from '../input.js';
import { createProgress } from '../progress.js';
import { formatHuman } from './task-format.js';
import { addSchemaOptions, requestOptions } from './task-options.js';

/** Items handed to a task per call when reading a file: keeps memory flat and output flowing. */
const CLI_BATCH = 64;

interface TaskFlags {
  model?: string;
  file?: string;
  textField?: string;
  json?: boolean;
  stream?: boolean;
  languages?: boolean;
  matrix?: boolean;
  docs?: string;
  [key: string]: unknown;
}

function registerTask(program: Command, task: AnyTask): void {
  const command = program
    .command(`${task.command} ${task.cli.args}`)
    .description(`${task.summary}\n\nDefault model: ${task.defaultModel}`)
    .option('-m, --model <id>', 'hub model id (owner/name) or a local model folder')
    .option('-f, --file <path>', 'read inputs from a file: one per line, or JSONL (.jsonl) with a "text" field; "-" for stdin')
    .option('--text-field <name>', 'field holding the text in JSONL input', 'text')
    .option('--json', 'print one JSON value per input, one per line');
  for (const alias of task.aliases ?? []) command.alias(alias);
  const skip = new Set(['model', 'inputs', ...(task.cli.skipOptions ?? [])]);
  const optionNames = addSchemaOptions(command, task.request as never, skip);
  if (task.id === 'generate') command.option('--stream', 'print text as it is generated');
  if (task.id === 'translate') command.option('--languages', "list the model's languages and exit");
  if (task.id === 'similarity') command.option('--matrix', 'print the cosine similarity matrix of all given texts');
  if (task.id === 'search') command.requiredOption('--docs <file>', 'documents to search: one per line, or JSONL with a "text" field');
  command.addHelpText('after', `\nExamples:\n${task.cli.examples.map((e) => `  $ ${e}`).join('\n')}\n`);

  command.action(async (texts: string[], flags: TaskFlags, cmd: Command) => {
    const config = configFromCommand(cmd);
    const models = new ModelStore(config);
    const base: Record<string, unknown> = { ...requestOptions(flags, optionNames), model: flags.model };
    try {
      if (flags.docs) base.documents = await readLines(flags.docs, flags.textField);
      if (await runSpecial(task, texts, flags, base, models)) return;
      const source = textSource(texts, flags);
      const progress = source.fromFile ? createProgress(task.command, source.total) : undefined;
      const all: string[] = [];
      const grouped = task.cli.toItems && !source.fromFile;
      for await (const batch of chunked(source.texts, grouped ? Number.MAX_SAFE_INTEGER : CLI_BATCH)) {
        const items = task.cli.toItems ? task.cli.toItems(batch) : batch;
        // Validate the whole request once per batch through the task schema, exactly as the library and server do.
        const { options } = prepareRequest(task, { ...base, inputs: items }, { convert: true });
        const results = await task.run(items as never[], options as never, { models, onItemDone: () => progress?.increment() });
        results.forEach((result, i) => (flags.json ? printJson(result) : all.push(formatHuman(task.id, items[i], result))));
        if (!flags.json && all.length > 0) process.stdout.write(`${all.splice(0).join('\n')}\n`);
      }
      progress?.stop();
    } finally {
      await models.dispose();
    }
  });
}

/** Task-specific modes that do not fit "one result per input": streaming, language lists, matrices. */
async function runSpecial(task: AnyTask, texts: string[], flags: TaskFlags, base: Record<string, unknown>, models: ModelStore): Promise<boolean> {
  if (task.id === 'translate' && flags.languages) {
    const loaded = await models.load(String(base.model ?? task.defaultModel), task.kind, task.id);
    const languages = modelLanguages(loaded);
    if (flags.json) printJson(languages);
    else process.stdout.write(`${languages.map((l) => `${l.code}\t${l.name}`).join('\n')}\n`);
    return true;
  }
  if (task.id === 'similarity' && flags.matrix) {
    const list = texts.length > 0 ? texts : await readAll(textSource(texts, flags).texts);
    prepareRequest(task, { ...base, inputs: [list.slice(0, 2)] }, { convert: true });
    const loaded = await models.load(String(base.model ?? task.defaultModel), task.kind, task.id);
    const matrix = await similarityMatrix(loaded, list, (base.pooling as 'mean' | 'cls') ?? 'mean');
    if (flags.json) printJson({ matrix });
    else process.stdout.write(`${matrix.map((row) => row.map((v) => v.toFixed(4)).join('\t')).join('\n')}\n`);
    return true;
  }
  if (task.id === 'generate' && flags.stream) {
    const loaded = await models.load(String(base.model ?? task.defaultModel), task.kind, task.id);
    for await (const prompt of textSource(texts, flags).texts) {
      const { options } = prepareRequest(task, { ...base, inputs: prompt }, { convert: true });
      const stream = streamGenerate(loaded, prompt, options as GenerateRequestOptions);
      let step = await stream.next();
      while (!step.done) {
        if (flags.json) printJson({ token: step.value });
        else process.stdout.write(step.value);
        step = await stream.next();
      }
      if (flags.json) printJson(step.value);
      else process.stdout.write('\n');
    }
    return true;
  }
  return false;
}

async function readAll(texts: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const t of texts) out.push(t);
  return out;
}

export function register(program: Command): void {
  for (const task of TASKS) registerTask(program, task);
}


