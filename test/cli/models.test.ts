// `geul models pull|list|info|rm` run in-process (main from src/cli) against the fake hub, output captured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { main } from '../../src/cli/main.js';

const REPO = {
  'config.json': JSON.stringify({ model_type: 'bert' }),
  'tokenizer.json': '{}',
  'onnx/model.onnx': Buffer.alloc(4000, 1),
  'onnx/model_quantized.onnx': Buffer.alloc(1000, 2),
};

let hub: FakeHub;
const work = mkdtempSync(join(tmpdir(), 'geul-cli-models-'));
const cacheDir = join(work, 'cache');
const configFile = join(work, 'config.json');

before(async () => {
  hub = await startFakeHub({ repos: { 'acme/enc': { main: REPO, v2: REPO } } });
  writeFileSync(configFile, '{}');
  for (const name of ['GEUL_OFFLINE', 'HF_HUB_OFFLINE', 'GEUL_REVISION', 'GEUL_DTYPE', 'GEUL_HUB_TOKEN', 'HF_TOKEN']) delete process.env[name];
});
after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

interface Run { code: number; stdout: string; stderr: string }

/** Runs `geul <args>` in this process with the fake hub and a private cache; stdout/stderr are captured. */
async function geul(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  // The CLI writes strings; the test runner reports to its parent through stdout in binary chunks, which pass through.
  const capture = (stream: NodeJS.WriteStream, original: typeof process.stdout.write, add: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? (add(chunk), true) : original.call(stream, chunk, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(process.stdout, write.out, (s) => (stdout += s));
  process.stderr.write = capture(process.stderr, write.err, (s) => (stderr += s));
  process.exitCode = undefined;
  try {
    await main(['node', 'geul', '--config', configFile, '--cache-dir', cacheDir, '--hub-url', hub.url, ...args]);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

test('every models command has a --help description', async () => {
  const help = await geul('models', '--help');
  assert.equal(help.code, 0);
  for (const command of ['pull', 'list', 'info', 'rm']) assert.match(help.stdout, new RegExp(`\\n\\s+${command}\\b.*\\S`), command);
  const pull = await geul('models', 'pull', '--help');
  assert.match(pull.stdout, /ONNX weights of --dtype/);
  assert.match(pull.stdout, /geul models pull Xenova\/all-MiniLM-L6-v2/);
  assert.match((await geul('models', 'rm', '--help')).stdout, /--yes/);
});

test('pull downloads the chosen dtype and prints one summary line; a second pull downloads nothing', async () => {
  const r = await geul('models', 'pull', 'acme/enc', '--dtype', 'q8');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lines(r.stdout).length, 1);
  assert.match(r.stdout, /^acme\/enc \(revision main, commit [0-9a-f]{7}, dtype q8\): 3 files, .* \(3 downloaded/);
  assert.equal(r.stderr, '');
  assert.ok(existsSync(join(cacheDir, 'acme', 'enc', 'main', 'onnx', 'model_quantized.onnx')));
  assert.ok(!existsSync(join(cacheDir, 'acme', 'enc', 'main', 'onnx', 'model.onnx')));
  const again = await geul('models', 'pull', 'acme/enc', '--dtype', 'q8', '--json');
  assert.equal(again.code, 0, again.stderr);
  const result = JSON.parse(again.stdout) as { downloadedBytes: number; files: unknown[]; dtype: string };
  assert.deepEqual([result.downloadedBytes, result.files.length, result.dtype], [0, 3, 'q8']);
  assert.equal((await geul('--revision', 'v2', 'models', 'pull', 'acme/enc')).code, 0);
});

test('list and info show revisions, files and sizes (human and --json)', async () => {
  const list = await geul('models', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^MODEL\s+REVISIONS\s+FILES\s+SIZE\nacme\/enc\s+main,v2\s+6\s+/);
  const json = lines((await geul('models', 'list', '--json')).stdout).map((l) => JSON.parse(l) as { id: string; revisions: { revision: string }[] });
  assert.deepEqual(json.map((m) => [m.id, m.revisions.map((r) => r.revision)]), [['acme/enc', ['main', 'v2']]]);

  const info = await geul('models', 'info', 'acme/enc');
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /revision main commit [0-9a-f]{40}: 3 files/);
  assert.match(info.stdout, /1\.00 kB\s+onnx\/model_quantized\.onnx/);
  const one = JSON.parse((await geul('--revision', 'v2', 'models', 'info', 'acme/enc', '--json')).stdout) as { revisions: { revision: string; files: { path: string }[] }[] };
  assert.deepEqual(one.revisions.map((r) => r.revision), ['v2']);
  assert.ok(one.revisions[0].files.some((f) => f.path === 'onnx/model.onnx'));
});

test('rm asks for --yes when not interactive, removes one revision or all', async () => {
  const refused = await geul('models', 'rm', 'acme/enc');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--yes.*\[INVALID_INPUT\]/);
  const one = await geul('--revision', 'v2', 'models', 'rm', 'acme/enc', '--yes');
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /Removed acme\/enc \(v2\), freed/);
  assert.ok(!existsSync(join(cacheDir, 'acme', 'enc', 'v2')));
  assert.equal((await geul('models', 'rm', 'acme/enc', '-y')).code, 0);
  assert.match((await geul('models', 'list')).stdout, /No cached models in/);
  const again = await geul('models', 'rm', 'acme/enc', '--yes');
  assert.equal(again.code, 2);
  assert.match(again.stderr, /not found in the cache.*\[MODEL_NOT_FOUND\]/);
});

test('errors are one line with a code: unknown model, bad id, offline and not cached', async () => {
  const missing = await geul('models', 'pull', 'acme/nope');
  assert.equal(missing.code, 2);
  assert.equal(lines(missing.stderr).length, 1);
  assert.match(missing.stderr, /^geul: Model "acme\/nope" was not found on http:\/\/127\.0\.0\.1:\d+ .*\[MODEL_NOT_FOUND\]$/m);
  const bad = await geul('models', 'info', 'http://evil.example/x');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /\[INVALID_MODEL_ID\]/);
  hub.clearRequests();
  const offline = await geul('--offline', 'models', 'pull', 'acme/enc');
  assert.equal(offline.code, 3);
  assert.match(offline.stderr, /Offline mode: "config\.json" of model "acme\/enc" is not cached.*\[OFFLINE_NOT_CACHED\]/);
  assert.equal(hub.count(), 0);
});
