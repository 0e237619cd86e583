// The error catalog stays consistent: statuses are HTTP codes, templates render, codes are documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOG, GeulError, geulError, toGeulError } from '../../src/core/errors.js';

test('every catalog entry has an HTTP status and renders its parameters', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
    assert.ok(entry.status >= 400 && entry.status < 600, code);
    const err = new GeulError(code as keyof typeof ERROR_CATALOG, { model: 'm', detail: 'd', word: 'w' });
    assert.ok(!err.message.includes('{model}'), code);
  }
});

test('geulError carries code, status and a JSON body without a stack', () => {
  const err = geulError('UNKNOWN_WORD', { word: '사과' });
  assert.equal(err.status, 404);
  assert.deepEqual(err.toJSON(), { error: { code: 'UNKNOWN_WORD', message: 'Word "사과" is not in the vocabulary' } });
  assert.equal(toGeulError(new Error('secret internals')).code, 'INTERNAL');
  assert.ok(!toGeulError(new Error('secret internals')).message.includes('secret'));
});

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CATALOG)) assert.ok(doc.includes(`\`${code}\``), `${code} missing from docs/errors.md`);
});
