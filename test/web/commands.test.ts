// The UI's form logic without a browser: form state → request body, and the curl and geul commands it shows, checked
// against the CLI's own generated options (so a shown command is one the CLI really accepts) and against a shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { addSchemaOptions, requestOptions } from '../../src/cli/commands/task-options.js';
import { TASK_LIST } from '../../src/tasks/registry.js';
import { taskRequestSchema } from '../../src/server/routes-tasks.js';
import { buildRequest, cliCommand, curlCommand, shellQuote, stateFromExample, type TaskInfo } from '../../src/web/src/tasks.js';

function info(id: string): TaskInfo {
  const task = TASK_LIST.find((t) => t.id === id)!;
  return {
    id: task.id, description: task.summary, default_model: task.defaultModel, batches: task.batches, streams: task.streams,
    request_schema: taskRequestSchema(task) as TaskInfo['request_schema'], response_schema: {},
    cli: { command: task.command, files: task.cli.files.map((f) => ({ field: f.field, flag: `--${f.flag}` })) },
    examples: { cli: [...task.examples.cli], http: [...task.examples.http] as Record<string, unknown>[] },
  };
}

/** Splits a command line the way sh does (via a real shell), so quoting mistakes show. */
function shellWords(line: string): string[] {
  return JSON.parse(execFileSync('sh', ['-c', `${'node -e "console.log(JSON.stringify(process.argv.slice(1)))" --'} ${line}`], { encoding: 'utf8' })) as string[];
}

test('every example body → form state → the same body again, and its geul command parses back to it with the CLI\'s options', () => {
  for (const task of TASK_LIST) {
    const ui = info(task.id);
    for (const example of ui.examples.http) {
      const built = buildRequest(ui, stateFromExample(ui, example));
      assert.ok('body' in built, `${task.id}: ${JSON.stringify(built)}`);
      assert.deepEqual(built.body, example, task.id);

      const words = shellWords(cliCommand(ui, built.body));
      assert.deepEqual(words.slice(0, 2), ['geul', ui.cli.command], task.id);
      const command = new Command().exitOverride().argument('[texts...]').option('-m, --model <id>').option('--stream');
      for (const file of ui.cli.files) command.option(`${file.flag} <file>`);
      const names = addSchemaOptions(command, task.request, new Set(['model', 'inputs', ...task.cli.skipOptions]));
      command.parse(words.slice(2), { from: 'user' });
      const flags = command.opts();
      const parsed = requestOptions(flags, names);
      for (const [name, value] of Object.entries(example)) {
        if (name === 'inputs' || ui.cli.files.some((f) => f.field === name)) continue;
        assert.equal(String(parsed[name]), String(value), `${task.id}: --${name}`);
      }
      const texts = Array.isArray(example.inputs) ? (example.inputs as unknown[]).flat() : [example.inputs];
      assert.deepEqual(command.args, texts.map(String), `${task.id}: positional texts`);
    }
  }
});

test('the form refuses what the server would, naming the field', () => {
  const generate = info('generate');
  assert.deepEqual(buildRequest(generate, { inputs: '' }), { error: 'Type at least one input text.' });
  assert.deepEqual(buildRequest(generate, { inputs: 'hi', max_new_tokens: '2.5' }), { error: 'Max new tokens must be a whole number.' });
  assert.deepEqual(buildRequest(info('similarity'), { inputs: 'a\nb', 'inputs.b': 'c' }), { error: 'Give as many texts in column B as in column A (one pair per line).' });
  // Defaults are left out, so the request and the commands stay as short as the user's choices.
  assert.deepEqual(buildRequest(info('embeddings'), { inputs: 'x', normalize: 'true' }), { body: { inputs: 'x' } });
  assert.deepEqual(buildRequest(info('embeddings'), { inputs: 'x', normalize: 'false' }), { body: { inputs: 'x', normalize: false } });
  assert.equal(cliCommand(info('embeddings'), { inputs: 'x', normalize: false }), 'geul embed --no-normalize x');
});

test('curl and shell quoting survive quotes, Korean text and the key (which is never written out)', () => {
  const body = { inputs: "it's 정말 \"good\"" };
  const curl = curlCommand('http://127.0.0.1:8787', info('classify'), body, true);
  assert.ok(curl.includes('$GEUL_API_KEY') && !curl.includes('Bearer sk'), curl);
  const words = shellWords(curl.replace(/\\\n\s*/g, ''));
  assert.deepEqual(JSON.parse(words[words.indexOf('-d') + 1]!), body);
  assert.equal(shellQuote('plain-word'), 'plain-word');
  assert.deepEqual(shellWords(shellQuote("a 'b' c")), ["a 'b' c"]);
});
