// `geul jobs …` against a real server on a loopback port with API keys required: every command (submit, list, show,
// watch, cancel, artifacts) works with --key and with GEUL_API_KEY, a key sees only its own jobs, and a key without
// the jobs scope, a missing key or a wrong one end with the server's error named and a non-zero exit code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';
import { writeTextsJsonl } from '../jobs/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-jobs-cli-auth-'));
const keys = new KeyStore(':memory:');
const alice = keys.create({ name: 'alice', scopes: ['jobs'] }).key;
const bob = keys.create({ name: 'bob', scopes: ['jobs'] }).key;
const tasksOnly = keys.create({ name: 'tasks-only', scopes: ['tasks'] }).key;
const admin = keys.create({ name: 'root', scopes: ['admin'] }).key;
let app: FastifyInstance;
let url: string;

before(async () => {
  const fixtures = await fixturesDir();
  app = await buildServer(serverConfig({ auth: 'required', defaults: { embeddings: join(fixtures, 'tiny-bert-embed') } }), { keys });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  writeTextsJsonl(join(work, 'texts.jsonl'), 40);
  writeTextsJsonl(join(work, 'long.jsonl'), 60_000);
});
after(async () => {
  await app.close();
  keys.close();
});

/**
 * The CLI with no key of the test runner's environment leaking in. Independent commands run side by side: each one
 * starts a Node process, slow on a busy machine.
 */
const geul = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--url', url], { env: { GEUL_API_KEY: '', ...env }, timeoutMs: 400_000 });

test('every jobs command with --key or GEUL_API_KEY; each key sees only its own jobs', { timeout: 900_000 }, async () => {
  // A long job, cancelled from the CLI while it runs or waits; watching it ends with the cancelled exit code (4).
  const long = await geul(['jobs', 'submit', 'embed', '--upload', `input=${join(work, 'long.jsonl')}`, '--set', 'id=id', '--set', 'chunkSize=10', '--key', alice]);
  assert.equal(long.code, 0, long.stderr);
  const longId = long.stdout.trim();
  assert.match(longId, /^job_/);
  const cancel = await geul(['jobs', 'cancel', longId], { GEUL_API_KEY: alice });
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.match(cancel.stderr, new RegExp(`job ${longId} is (cancelled|running \\(cancelling\\))`));
  const [watched, submitted] = await Promise.all([
    geul(['jobs', 'watch', longId, '--json', '--key', alice]),
    geul(['jobs', 'submit', 'embed', '--upload', `input=${join(work, 'texts.jsonl')}`, '--set', 'id=id', '--set', 'chunkSize=20', '--watch'], { GEUL_API_KEY: alice }),
  ]);
  assert.equal(watched.code, 4, watched.stderr);
  assert.equal((jsonLines(watched.stdout) as { state?: string }[]).at(-1)?.state, 'cancelled');
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  assert.match(submitted.stderr, new RegExp(`job ${id} succeeded`));

  const out = join(work, 'out');
  const [listed, shown, download, bobs, bobShows] = await Promise.all([
    geul(['jobs', 'list', '--json', '--key', alice]),
    geul(['jobs', 'show', id], { GEUL_API_KEY: alice }),
    geul(['jobs', 'artifacts', id, 'embeddings.jsonl', '-o', out], { GEUL_API_KEY: alice }),
    // --key wins over GEUL_API_KEY; another key's jobs do not exist for bob.
    geul(['jobs', 'list', '--json', '--key', bob], { GEUL_API_KEY: alice }),
    geul(['jobs', 'show', id, '--key', bob]),
  ]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((jsonLines(listed.stdout) as { id: string; state: string }[]).map((j) => [j.id, j.state]), [[id, 'succeeded'], [longId, 'cancelled']]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /succeeded\t40\/40/);
  assert.match(shown.stdout, /artifact\tembeddings\.jsonl/);
  assert.equal(download.code, 0, download.stderr);
  assert.deepEqual(readFileSync(join(out, 'embeddings.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { index: number }).index), Array.from({ length: 40 }, (_, i) => i));
  assert.equal(bobs.code, 0, bobs.stderr);
  assert.deepEqual(jsonLines(bobs.stdout), []);
  assert.equal(bobShows.code, 2, bobShows.stderr);
  assert.match(bobShows.stderr, /\[NOT_FOUND\]/);
});

test('a key without the jobs scope, no key, a wrong key: the server\'s error, a non-zero exit, nothing submitted', { timeout: 900_000 }, async () => {
  const earlier = await listOf(alice);
  const [list, submit, watch, none, wrong] = await Promise.all([
    geul(['jobs', 'list', '--key', tasksOnly]),
    geul(['jobs', 'submit', 'embed', '--upload', `input=${join(work, 'texts.jsonl')}`, '--key', tasksOnly]),
    geul(['jobs', 'watch', 'job_x'], { GEUL_API_KEY: tasksOnly }),
    geul(['jobs', 'list']),
    geul(['jobs', 'submit', 'embed', '--set', 'input=file-000000000000000000000000', '--key', `${alice.slice(0, -4)}${alice.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`]),
  ]);
  for (const [what, res] of [['list', list], ['submit', submit], ['watch (GEUL_API_KEY)', watch]] as const) {
    assert.equal(res.code, 2, `${what}: ${res.stderr}`);
    assert.match(res.stderr, /lacks the "jobs" scope \[FORBIDDEN\]/, what);
  }
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Missing or invalid API key \[UNAUTHORIZED\]/);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /\[UNAUTHORIZED\]/);
  assert.deepEqual(await listOf(alice), earlier, 'the refused submits left nothing');
  const everyone = await app.inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${admin}` } });
  assert.deepEqual((JSON.parse(everyone.body) as { data: { id: string }[] }).data.map((j) => j.id), earlier, 'no one else\'s either');
});

/** The ids of a key's jobs, newest first, asked of the server directly. */
async function listOf(key: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${key}` } });
  return (JSON.parse(res.body) as { data: { id: string }[] }).data.map((j) => j.id);
}
