// Generates one CLI command per registry task (`geul sentiment`, `geul generate`, …) from its request schema and CLI metadata.
import type { Command } from 'commander';

import { TASK_LIST } from '../../tasks/registry.js';
import type { Task, TaskContext } from '../../tasks/types.js';
import { ModelStore } from '../../runtime/models.js';
import { prepareOptions, prepareRequest } from '../../tasks/request.js';
import { runMode, streamTask } from '../../tasks/run.js';
import { configFromCommand, printJson } from '../context.js';
import { chunked, readLines, textSource } from '../input.js';
import { createProgress } from '../progress.js';
import { addSchemaOptions, camel, requestOptions } from './task-options.js';

/** Items handed to a task per call when reading a file: keeps memory flat and output flowing. */
const CLI_BATCH = 64;

interface TaskFlags {
  model?: string;
  file?: string;
  textField?: string;
  json?: boolean;
  stream?: boolean;
  [key: string]: unknown;
}

function registerTask(program: Command, task: Task): void {
  const command = program
    .command(`${task.command} ${task.cli.args}`)
    // The summary alone in `geul --help`'s list; the command's own --help adds its model.
    .summary(task.summary)
    .description(`${task.summary}\n\n${task.kind === null ? `Built in (${task.defaultModel}): no model to download` : `Default model: ${task.defaultModel}`}`);
  // A built-in task (detect) loads no model, so it offers no --model.
  if (task.kind !== null) command.option('-m, --model <id>', 'hub model id (owner/name) or a local model folder');
  command
    .option('-f, --file <path>', 'read inputs from a file: one per line, or JSONL (.jsonl) with a "text" field; "-" for stdin')
    .option('--text-field <name>', 'field holding the text in JSONL input', 'text')
    .option('--json', 'print one JSON value per input, one per line');
  for (const alias of task.aliases) command.alias(alias);
  const skip = new Set(['model', 'inputs', ...task.cli.skipOptions]);
  const optionNames = addSchemaOptions(command, task.request, skip);
  if (task.streams) command.option('--stream', 'print text as it is generated');
  for (const mode of task.cli.modes) command.option(`--${mode.flag}`, mode.description);
  for (const file of task.cli.files) {
    if (file.required) command.requiredOption(`--${file.flag} <file>`, file.description);
    else command.option(`--${file.flag} <file>`, file.description);
  }
  command.addHelpText('after', `\nExamples:\n${task.examples.cli.map((e) => `  $ ${e}`).join('\n')}\n`);

  command.action(async (texts: string[], flags: TaskFlags, cmd: Command) => {
    const config = configFromCommand(cmd);
    const models = new ModelStore(config);
    const base: Record<string, unknown> = { ...requestOptions(flags, optionNames), model: flags.model };
    try {
      for (const file of task.cli.files) {
        const path = flags[camel(file.flag)];
        if (typeof path === 'string') base[file.field] = await readLines(path, flags.textField);
      }
      const mode = task.cli.modes.find((m) => flags[camel(m.flag)] === true);
      if (mode) {
        const list = texts.length > 0 ? texts : await readAll(textSource(texts, flags).texts);
        const out = await runMode(task, mode.flag, list, prepareOptions(task, base, { convert: true }), { models });
        if (flags.json) printJson(out.value);
        else process.stdout.write(`${out.text}\n`);
        return;
      }
      if (flags.stream && task.streams) return await streamItems(task, texts, flags, base, { models });
      const source = textSource(texts, flags);
      const progress = source.fromFile ? createProgress(task.command, source.total) : undefined;
      // Arguments are grouped at once (similarity pairs them up); file lines go in bounded batches.
      for await (const batch of chunked(source.texts, source.fromFile ? CLI_BATCH : Number.MAX_SAFE_INTEGER)) {
        // Validate the whole request once per batch through the task schema, exactly as the library and server do.
        const { items, options } = prepareRequest(task, { ...base, inputs: task.cli.toItems(batch) }, { convert: true });
        const results = await task.run(items, options, { models, onItemDone: () => progress?.increment() });
        if (flags.json) results.forEach((result) => printJson(result));
        else process.stdout.write(`${results.map((result, i) => task.format(items[i], result)).join('\n')}\n`);
      }
      progress?.stop();
    } finally {
      await models.dispose();
    }
  });
}

/**
 * `--stream`: pieces as they come. Human output is the same text the plain mode prints (pieces, then a newline);
 * `--json` prints `{"token": piece}` lines, then the full result.
 */
async function streamItems(task: Task, texts: string[], flags: TaskFlags, base: Record<string, unknown>, ctx: TaskContext): Promise<void> {
  for await (const text of textSource(texts, flags).texts) {
    const { items, options } = prepareRequest(task, { ...base, inputs: task.cli.toItems([text])[0] }, { convert: true });
    const stream = streamTask(task, items[0], options, ctx);
    let step = await stream.next();
    while (!step.done) {
      if (flags.json) printJson({ token: step.value });
      else process.stdout.write(step.value);
      step = await stream.next();
    }
    if (flags.json) printJson(step.value);
    else process.stdout.write('\n');
  }
}

async function readAll(texts: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const t of texts) out.push(t);
  return out;
}

export function register(program: Command): void {
  for (const task of TASK_LIST) registerTask(program, task);
}
