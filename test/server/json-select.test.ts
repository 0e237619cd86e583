// The selective JSON parser agrees with JSON.parse on what it keeps, refuses what JSON.parse refuses, and still refuses
// prototype-poisoning keys and deep nesting inside the fields it skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knownBodyFields, parseSelected } from '../../src/server/json-select.js';

const keep = new Set(['inputs', 'model']);
const pick = (text: string) => parseSelected(text, keep, 64);
const refused = (pattern: RegExp) => (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && pattern.test(err.message);

test('kept members equal JSON.parse; unknown members are dropped', () => {
  const docs = [
    '{}',
    ' { "inputs" : "a\\"b\\\\c\\u00e9\\n" , "other": [1, -2.5e+3, true, false, null, {"x": []}] } ',
    '{"model": "m", "inputs": ["x", "y"], "inputs": ["last wins"]}',
    '{"inputs": {"nested": [[1, 2], {"k": "v"}]}, "model": null, "extra": "\\ud83d\\ude00"}',
    '{"inputs":"한국어 텍스트","model":"0"}',
  ];
  for (const doc of docs) {
    const full = JSON.parse(doc) as Record<string, unknown>;
    const expected = Object.fromEntries(Object.entries(full).filter(([k]) => keep.has(k)));
    assert.deepEqual(pick(doc), expected, doc);
  }
});

test('malformed JSON anywhere, kept or skipped, is refused; so is a body that is not an object', () => {
  const malformed = [
    '', '{', '{"inputs": "x",}', "{'inputs': 'x'}", '{"inputs": "x"} trailing', '{"extra": [1,]}',
    '{"extra": 01}', '{"extra": "\\x"}', '{"extra": "\\u12G4"}', '{"extra": "raw\nnewline"}', '{"extra": tru}',
    '{"extra": "unterminated}', '{"extra" 1}', '{"extra": -}', '{"extra": .5}', '{"extra": [1 2]}',
  ];
  for (const doc of malformed) {
    assert.throws(() => JSON.parse(doc), SyntaxError, `JSON.parse accepts ${JSON.stringify(doc)}`);
    assert.throws(() => pick(doc), refused(/malformed JSON|must be a JSON object/), JSON.stringify(doc));
  }
  for (const doc of ['[]', '"text"', '1', 'null']) assert.throws(() => pick(doc), refused(/must be a JSON object/), doc);
});

test('poisoning keys are refused even in skipped fields, escaped or not', () => {
  for (const doc of [
    '{"__proto__": {"admin": true}}',
    '{"inputs": "x", "extra": [{"__proto__": 1}]}',
    '{"extra": {"\\u005f_proto__": 1}}',
    '{"extra": {"constructor": {"prototype": {}}}}',
  ]) assert.throws(() => pick(doc), refused(/is not allowed/), doc);
  assert.deepEqual(pick('{"inputs": {"constructor": "fine", "prototype": "fine"}}'), { inputs: { constructor: 'fine', prototype: 'fine' } });
});

test('nesting is limited in skipped fields too', () => {
  assert.throws(() => pick(`{"extra": ${'['.repeat(100)}${']'.repeat(100)}}`), refused(/nest at most 64/));
  assert.deepEqual(pick(`{"extra": ${'['.repeat(62)}${']'.repeat(62)}}`), {});
});

test('known fields come from an object schema or a union of them; anything else is open', () => {
  assert.deepEqual([...knownBodyFields({ type: 'object', properties: { a: {}, b: {} } })!], ['a', 'b']);
  assert.deepEqual([...knownBodyFields({ anyOf: [{ properties: { a: {} } }, { properties: { c: {} } }] })!].sort(), ['a', 'c']);
  assert.equal(knownBodyFields({ anyOf: [{ properties: { a: {} } }, { type: 'string' }] }), undefined);
  assert.equal(knownBodyFields(undefined), undefined);
});
