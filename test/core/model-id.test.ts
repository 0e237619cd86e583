// Model id, revision and repo path validation: what is a hub id, what is a local folder, what is rejected and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../src/core/errors.js';
import { isCommitSha, isHubId, parseHubId, parseModelRef, repoPathProblem, validateRevision } from '../../src/core/model-id.js';

function rejects(fn: () => unknown, code: string, reason?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isGeulError(err), `expected a GeulError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (reason) assert.match(err.message, reason);
    return true;
  });
}

test('good hub ids parse into owner and name', () => {
  const good: [string, string | undefined, string][] = [
    ['Xenova/gpt2', 'Xenova', 'gpt2'],
    ['Xenova/distilbert-base-uncased-finetuned-sst-2-english', 'Xenova', 'distilbert-base-uncased-finetuned-sst-2-english'],
    ['Xenova/m2m100_418M', 'Xenova', 'm2m100_418M'],
    ['sentence-transformers/all-MiniLM-L6-v2', 'sentence-transformers', 'all-MiniLM-L6-v2'],
    ['gpt2', undefined, 'gpt2'],
    ['a.b/c.d-e_f', 'a.b', 'c.d-e_f'],
    [`o/${'x'.repeat(96)}`, 'o', 'x'.repeat(96)],
  ];
  for (const [id, owner, name] of good) {
    assert.deepEqual(parseHubId(id), owner === undefined ? { kind: 'hub', id, name } : { kind: 'hub', id, owner, name }, id);
    assert.ok(isHubId(id), id);
  }
});

test('bad hub ids are INVALID_MODEL_ID with a reason', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['../x', /"\.\." segments/],
    ['./x', /"\.\." segments|segments/],
    ['a/../b', /segments/],
    ['/etc/passwd', /absolute path/],
    ['~/models/x', /home-relative/],
    ['http://x', /URLs are not model ids/],
    ['https://huggingface.co/Xenova/gpt2', /URLs/],
    ['file:///etc/passwd', /URLs/],
    ['hf:Xenova/gpt2', /URLs/],
    ['a/b/c', /too many "\/"/],
    ['a//b', /empty owner or name/],
    ['a/', /empty owner or name/],
    ['a\\b', /backslash/],
    ['a\0b', /NUL/],
    ['a..b/c', /must not contain "\.\."/],
    ['.hidden/x', /start or end/],
    ['x/name-', /start or end/],
    ['-x/y', /start or end/],
    ['x/na me', /letters, digits/],
    ['x/ñ', /letters, digits/],
    [' x/y', /whitespace/],
    [`o/${'x'.repeat(97)}`, /longer than 96/],
  ];
  for (const [id, reason] of bad) {
    rejects(() => parseHubId(id), 'INVALID_MODEL_ID', reason);
    assert.equal(isHubId(id), false, id);
  }
});

test('local folders are explicit: /, ./, ../, ~/ or an existing directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'geul-id-'));
  try {
    mkdirSync(join(cwd, 'my-model'));
    assert.deepEqual(parseModelRef('/opt/models/x', { cwd }), { kind: 'local', id: '/opt/models/x', path: '/opt/models/x' });
    assert.equal(parseModelRef('./x', { cwd }).kind, 'local');
    assert.deepEqual(parseModelRef('../x', { cwd }), { kind: 'local', id: '../x', path: join(cwd, '..', 'x') });
    assert.deepEqual(parseModelRef('~/m', { cwd, home: '/home/u' }), { kind: 'local', id: '~/m', path: '/home/u/m' });
    assert.deepEqual(parseModelRef('my-model', { cwd }), { kind: 'local', id: 'my-model', path: join(cwd, 'my-model') });
    assert.equal(parseModelRef('Xenova/gpt2', { cwd }).kind, 'hub');
    // Still rejected even though they could be paths.
    rejects(() => parseModelRef('file:///etc/passwd', { cwd }), 'INVALID_MODEL_ID', /URLs/);
    rejects(() => parseModelRef('C:\\models\\x', { cwd }), 'INVALID_MODEL_ID');
    rejects(() => parseModelRef('a/b/c', { cwd }), 'INVALID_MODEL_ID', /too many/);
    rejects(() => parseModelRef('./x\0', { cwd }), 'INVALID_MODEL_ID', /NUL/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('revisions: branches, tags and commits; no "..", no leading "/"', () => {
  for (const good of ['main', 'v1.0', 'refs/pr/1', 'feature/x-y_z', 'a'.repeat(40), '0123456789abcdef0123456789abcdef01234567']) {
    assert.equal(validateRevision(good), good);
  }
  for (const bad of ['', '..', 'a..b', '/main', 'main/', 'a//b', 'x y', 'a:b', 'a~1', 'a^', 'a\\b', 'x.lock', '-x', 'a/./b', 'a@{1}', 'a%2e']) {
    rejects(() => validateRevision(bad, 'o/n'), 'INVALID_MODEL_ID', /revision/);
  }
  assert.ok(isCommitSha('0123456789abcdef0123456789abcdef01234567'));
  assert.ok(!isCommitSha('main'));
});

test('repo file paths must stay inside the repo', () => {
  for (const good of ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data_1', '.gitattributes']) assert.equal(repoPathProblem(good), undefined, good);
  for (const bad of ['', '/etc/passwd', '../x', 'onnx/../../x', 'a//b', 'a\\b', 'a/./b', 'x\0', 'onnx/']) assert.ok(repoPathProblem(bad), bad);
});
