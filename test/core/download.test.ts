// downloadFile against the fake hub: redirects, auth scope, size/hash checks and atomicity under broken transfers.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { isGeulError } from '../../src/core/errors.js';
import { downloadFile, hubFetch } from '../../src/core/download.js';

const CONFIG = JSON.stringify({ model_type: 'bert', hidden_size: 8 });
const WEIGHTS = Buffer.from(Buffer.alloc(200_000).map((_, i) => (i * 31) % 251));

let hub: FakeHub;
let dir: string;

before(async () => {
  hub = await startFakeHub({ repos: { 'acme/tiny': { main: { 'config.json': CONFIG, 'onnx/model.onnx': WEIGHTS } } } });
});
after(async () => {
  await hub.close();
});
beforeEach(() => {
  hub.clearFaults();
  hub.clearRequests();
  dir = mkdtempSync(join(tmpdir(), 'geul-dl-'));
});

const fileUrl = (file: string): string => `${hub.url}/acme/tiny/resolve/main/${file}`;

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isGeulError(err), `expected GeulError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err.params;
  }
  assert.fail(`expected ${code}`);
}

function leftovers(folder: string): string[] {
  return readdirSync(folder, { recursive: true }).map(String).filter((f) => f.endsWith('.incomplete'));
}

test('downloads a plain file with its git-blob ETag checked and reports the commit', async () => {
  const seen: number[] = [];
  const result = await downloadFile(fileUrl('config.json'), join(dir, 'config.json'), { onProgress: (r) => seen.push(r) });
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), CONFIG);
  assert.equal(result.size, CONFIG.length);
  assert.equal(result.commit, hub.commitSha('acme/tiny', 'main'));
  assert.match(result.etag ?? '', /^[0-9a-f]{40}$/);
  assert.equal(seen.at(-1), CONFIG.length);
  assert.deepEqual(leftovers(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('follows the LFS redirect, checks X-Linked-Size and the sha256, streams progress', async () => {
  const seen: [number, number | undefined, string][] = [];
  const dest = join(dir, 'onnx', 'model.onnx');
  const result = await downloadFile(fileUrl('onnx/model.onnx'), dest, { label: 'onnx/model.onnx', onProgress: (...a) => seen.push(a) });
  assert.deepEqual(readFileSync(dest), WEIGHTS);
  assert.match(result.etag ?? '', /^[0-9a-f]{64}$/);
  assert.equal(result.sha256, result.etag);
  assert.deepEqual(hub.requests.map((r) => r.kind), ['resolve', 'cdn']);
  assert.ok(seen.every(([r, t, f], i) => t === WEIGHTS.length && f === 'onnx/model.onnx' && (i === 0 || r >= seen[i - 1][0])));
  assert.equal(seen.at(-1)?.[0], WEIGHTS.length);
  rmSync(dir, { recursive: true, force: true });
});

test('a socket closed mid-body is DOWNLOAD_INCOMPLETE and leaves no file behind (an old file stays intact)', async () => {
  for (const file of ['config.json', 'onnx/model.onnx']) {
    hub.fault(file, { truncateAt: 10 }, { times: 1 });
    const params = await rejectsWith(downloadFile(fileUrl(file), join(dir, file)), 'DOWNLOAD_INCOMPLETE');
    assert.ok(Number(params.received) <= 10, String(params.received));
    assert.ok(Number(params.expected) > 10);
    assert.ok(!existsSync(join(dir, file)), file);
  }
  writeFileSync(join(dir, 'config.json'), 'old');
  hub.fault('config.json', { truncateAt: 3 }, { times: 1 });
  await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'config.json')), 'DOWNLOAD_INCOMPLETE');
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), 'old');
  assert.deepEqual(leftovers(dir), []);
  // The fault was used up: a retry succeeds.
  await downloadFile(fileUrl('config.json'), join(dir, 'config.json'));
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), CONFIG);
  rmSync(dir, { recursive: true, force: true });
});

test('a Content-Length larger than the body is DOWNLOAD_INCOMPLETE', async () => {
  hub.fault('config.json', { contentLength: CONFIG.length + 100 });
  const params = await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'config.json')), 'DOWNLOAD_INCOMPLETE');
  assert.equal(params.expected, CONFIG.length + 100);
  assert.ok(!existsSync(join(dir, 'config.json')));
  assert.deepEqual(leftovers(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('a Content-Length smaller than the file is caught by X-Linked-Size or the ETag', async () => {
  hub.fault('onnx/model.onnx', { contentLength: 1000 });
  const params = await rejectsWith(downloadFile(fileUrl('onnx/model.onnx'), join(dir, 'model.onnx')), 'DOWNLOAD_INCOMPLETE');
  assert.equal(params.expected, WEIGHTS.length);
  hub.fault('config.json', { contentLength: 5 });
  await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'config.json')), 'DOWNLOAD_CORRUPT');
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('a known size or sha256 from the listing is checked too', async () => {
  await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'c.json'), { expectedSha256: '0'.repeat(64) }), 'DOWNLOAD_CORRUPT');
  await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'c.json'), { expectedSize: CONFIG.length + 1 }), 'DOWNLOAD_INCOMPLETE');
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('HTTP errors carry status and the hub error code; nothing is written', async () => {
  let params = await rejectsWith(downloadFile(fileUrl('nope.json'), join(dir, 'nope.json')), 'HUB_ERROR');
  assert.equal(params.status, 404);
  assert.equal(params.hubCode, 'EntryNotFound');
  hub.fault('config.json', { status: 503 });
  params = await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'config.json')), 'HUB_ERROR');
  assert.equal(params.status, 503);
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('the token goes to the hub but not to another origin; a reset connection is HUB_UNREACHABLE', async () => {
  const secured = await startFakeHub({ token: 'sekret', repos: { 'acme/private': { main: { 'config.json': '{}', 'w.bin': 'abc' } } } });
  try {
    const url = `${secured.url}/acme/private/resolve/main/config.json`;
    const params = await rejectsWith(downloadFile(url, join(dir, 'a.json')), 'HUB_ERROR');
    assert.equal(params.status, 401);
    await downloadFile(url, join(dir, 'a.json'), { token: 'sekret' });
    await downloadFile(`${secured.url}/acme/private/resolve/main/w.bin`, join(dir, 'w.bin'), { token: 'sekret' });
    assert.equal(readFileSync(join(dir, 'w.bin'), 'utf8'), 'abc');
    // A redirect to another origin (same host, other port) must not carry the token.
    secured.fault('elsewhere.json', { status: 302, headers: { location: `${hub.url}/acme/tiny/resolve/main/config.json` } });
    const other = await hubFetch(`${secured.url}/acme/private/resolve/main/elsewhere.json`, { token: 'sekret' });
    assert.equal(await other.response.text(), CONFIG);
    assert.equal(secured.requests.at(-1)?.authorization, 'Bearer sekret');
    assert.equal(hub.requests.at(-1)?.authorization, undefined);
    assert.equal(hub.requests.length, 1);
  } finally {
    await secured.close();
  }
  hub.fault('config.json', { reset: true }, { times: 1 });
  await rejectsWith(downloadFile(fileUrl('config.json'), join(dir, 'x.json')), 'HUB_UNREACHABLE');
  rmSync(dir, { recursive: true, force: true });
});

test('an unreachable hub is HUB_UNREACHABLE; an aborted download is CANCELLED', async () => {
  const gone = await startFakeHub();
  const url = gone.url;
  await gone.close();
  const params = await rejectsWith(downloadFile(`${url}/a/b/resolve/main/config.json`, join(dir, 'c.json')), 'HUB_UNREACHABLE');
  assert.equal(params.url, url);
  hub.fault('config.json', { delayMs: 2000 }, { times: 1 });
  const controller = new AbortController();
  const pending = downloadFile(fileUrl('config.json'), join(dir, 'c.json'), { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await rejectsWith(pending, 'CANCELLED');
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});
