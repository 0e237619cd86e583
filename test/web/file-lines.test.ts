// The UI's file loader: plain lines as they are, JSONL by its "text" field as the CLI's --docs reads it, bad lines named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesOfFile } from '../../src/web/src/file-lines.js';

test('a text file keeps its lines and drops blank ones', () => {
  assert.equal(linesOfFile('docs.txt', '\uFEFFfirst\r\n\nsecond {"text": "x"}\n'), 'first\nsecond {"text": "x"}');
});

test('a JSONL file gives each line\'s "text" field, or the line\'s JSON string', () => {
  const jsonl = ['{"text": "how to cook rice", "id": 1}', '"환불 방법"', '', '{"id": 3, "text": "two\\nlines"}'].join('\n');
  assert.equal(linesOfFile('faq.JSONL', jsonl), 'how to cook rice\n환불 방법\ntwo lines');
});

test('a JSONL line without a text field, or not JSON, is an error naming the line', () => {
  assert.throws(() => linesOfFile('faq.jsonl', '{"text": "ok"}\n{"body": "no"}'), /faq\.jsonl, line 2: .*"text" string field/);
  assert.throws(() => linesOfFile('faq.jsonl', '{"text": "ok"\n'), /faq\.jsonl, line 1: not valid JSON/);
});
