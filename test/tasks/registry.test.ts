// The task registry as a table: keys, metadata every consumer reads, examples that validate, client-facing schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TASKS, TASK_LIST, getTask } from '../../src/tasks/registry.js';
import { clientSchema, prepareRequest } from '../../src/tasks/request.js';
import { Type } from '../../src/core/schema.js';
import type { TaskCallOptions, TaskResult } from '../../src/index.js';

test('the table is keyed by task id, with today\'s ids in order', () => {
  assert.deepEqual(Object.keys(TASKS), ['generate', 'classify', 'embeddings', 'similarity', 'search', 'translate', 'fill-mask', 'detect']);
  for (const [key, task] of Object.entries(TASKS)) assert.equal(task.id, key);
  assert.equal(getTask('embeddings'), TASKS.embeddings);
  assert.equal(getTask('toString'), undefined, 'no prototype keys');
  assert.equal(getTask('nope'), undefined);
});

test('what consumers special-cased now lives on the tasks', () => {
  assert.deepEqual(TASK_LIST.filter((t) => t.batches).map((t) => t.id), ['classify', 'embeddings']);
  assert.deepEqual(TASK_LIST.filter((t) => t.streams).map((t) => t.id), ['generate']);
  for (const task of TASK_LIST) assert.equal(typeof task.stream === 'function', task.streams, task.id);
  assert.deepEqual(TASK_LIST.filter((t) => t.family === 'embeddings').map((t) => t.id), ['embeddings', 'similarity', 'search']);
  assert.deepEqual(TASKS.translate.cli.modes.map((m) => m.flag), ['languages']);
  assert.deepEqual(TASKS.similarity.cli.modes.map((m) => m.flag), ['matrix']);
  assert.deepEqual(TASKS.search.cli.files.map((f) => [f.flag, f.field, f.required]), [['docs', 'documents', true]]);
});

test('every task has CLI and HTTP examples, and each HTTP example is a valid request', () => {
  for (const task of TASK_LIST) {
    assert.ok(task.examples.cli.length > 0 && task.examples.cli.every((e) => e.startsWith(`geul ${task.command} `)), task.id);
    assert.ok(task.examples.http.length > 0, task.id);
    for (const body of task.examples.http) assert.doesNotThrow(() => prepareRequest(task, body), `${task.id}: ${JSON.stringify(body)}`);
  }
});

test('every task says in its schema what it does with an empty text, and the schema enforces it', () => {
  const empty: Record<string, boolean> = { generate: true, classify: true, embeddings: false, similarity: false, search: false, translate: true, 'fill-mask': false, detect: true };
  for (const task of TASK_LIST) {
    const item = JSON.stringify(task.item);
    assert.match(item, /empty/i, `${task.id}: the input description mentions empty texts`);
    const inputs = task.id === 'similarity' ? ['', 'b'] : '';
    const extra = task.id === 'search' ? { documents: ['a'] } : task.id === 'translate' ? { to: 'fr' } : {};
    const accepted = (() => { try { prepareRequest(task, { inputs, ...extra }); return true; } catch { return false; } })();
    assert.equal(accepted, empty[task.id], `${task.id}: empty text ${empty[task.id] ? 'accepted' : 'refused'}`);
  }
  assert.throws(() => prepareRequest(TASKS.search, { inputs: 'q', documents: ['a', ''] }), /documents/);
});

test('human formats are per task', () => {
  assert.equal(TASKS.classify.format('x', [{ label: 'POSITIVE', score: 0.75 }, { label: 'NEGATIVE', score: 0.25 }]), 'POSITIVE\t0.7500\tNEGATIVE\t0.2500');
  assert.equal(TASKS.generate.format('Once', { text: ' upon', tokens: 1, finish_reason: 'length' }), ' upon');
  assert.equal(TASKS.search.format('q', [{ index: 2, score: 0.5, text: 'doc' }]), '# q\n0.5000\t2\tdoc');
  assert.equal(TASKS.similarity.format(['a', 'b'], { score: 0.12345 }), '0.1235');
});

test('client schemas are plain JSON Schema where defaulted fields are not required', () => {
  const schema = clientSchema(Type.Object({
    a: Type.String(),
    b: Type.Integer({ default: 3 }),
    c: Type.Optional(Type.String()),
    nested: Type.Object({ d: Type.Boolean({ default: true }) }),
  }));
  assert.deepEqual(schema.required, ['a', 'nested']);
  assert.equal((schema.properties as Record<string, { required?: unknown }>).nested.required, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(schema).sort(), ['properties', 'required', 'type']);
  for (const task of TASK_LIST) {
    const required = clientSchema(task.request).required as string[];
    const expected = task.id === 'search' ? ['inputs', 'documents'] : ['inputs'];
    assert.deepEqual(required, expected, task.id);
  }
});

test('the library\'s option and result types are the schemas\' (checked by the type checker)', () => {
  const options: TaskCallOptions<'classify'> = { long_text: 'chunk', top_k: 2 };
  // @ts-expect-error: "bogus" is not one of the schema's long_text values
  const wrongEnum: TaskCallOptions<'classify'> = { long_text: 'bogus' };
  // @ts-expect-error: generate has no "documents" option
  const wrongField: TaskCallOptions<'generate'> = { documents: [] };
  const result: TaskResult<'generate'> = { text: '', tokens: 0, finish_reason: 'stop' };
  assert.ok(options && wrongEnum && wrongField && result);
});
