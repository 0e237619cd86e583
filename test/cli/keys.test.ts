// `geul keys`: list and revoke on a data dir without a key store say so and create nothing; duplicate names are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('keys list / revoke with a missing --data-dir create no files; create refuses a taken name', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'geul-cli-keys-')), 'missing');
  const list = await runCli(['keys', 'list', '--data-dir', dir]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, '');
  assert.match(list.stderr, /no key store/);
  const revoke = await runCli(['keys', 'revoke', 'bob', '--data-dir', dir]);
  assert.equal(revoke.code, 2);
  assert.equal(existsSync(dir), false, 'nothing was created');
  assert.equal((await runCli(['keys', 'create', '--name', 'bob', '--data-dir', dir])).code, 0);
  const twice = await runCli(['keys', 'create', '--name', 'bob', '--data-dir', dir]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /already named "bob".*\[INVALID_INPUT\]/);
  assert.equal(twice.stderr.trim().split('\n').length, 1, 'one line');
});
