// Hub HTTP plumbing: fetch with manual redirects and scoped auth, and verified, atomic file downloads.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { geulError, isGeulError, type GeulError } from './errors.js';

/** Download progress: bytes so far, the expected total when known, and the file (as labelled by the caller). */
export type ProgressCallback = (received: number, total: number | undefined, file: string) => void;

export interface HubRequestOptions {
  /** Bearer token; sent only to the origin of the first URL, never to redirect targets elsewhere (CDNs). */
  token?: string;
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** A final (non-redirect) response plus what the hub said on the way (first hop). */
export interface HubResponse {
  response: Response;
  /** URL of the final response. */
  url: string;
  /** Size and etag of the LFS object (X-Linked-Size / X-Linked-Etag), when the hub redirected to storage. */
  linkedSize?: number;
  linkedEtag?: string;
  /** The commit the hub resolved the revision to (X-Repo-Commit). */
  commit?: string;
}

const MAX_REDIRECTS = 10;
const USER_AGENT = `geul/0.1.0 (node ${process.version})`;

/** Drops query strings (storage URLs carry signatures) so URLs are safe to show. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

function causeDetail(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function cancelledOr(err: unknown, signal: AbortSignal | undefined, other: () => GeulError): GeulError {
  if (isGeulError(err)) return err;
  if (signal?.aborted) return geulError('CANCELLED', {}, err);
  return other();
}

/** HUB_ERROR for a non-OK answer; params carry `status` and the hub's `hubCode` (X-Error-Code) for callers to map. */
export function hubHttpError(response: Response, url: string): GeulError {
  return geulError('HUB_ERROR', {
    status: response.status, url: displayUrl(url), hubCode: response.headers.get('x-error-code') ?? undefined,
  });
}

function headerInt(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** A strong ETag's value without quotes; undefined for weak or absent ones. */
function strongEtag(value: string | null | undefined): string | undefined {
  if (!value || value.startsWith('W/')) return undefined;
  return value.replace(/^"|"$/g, '');
}

/**
 * GET (or HEAD) a hub URL, following up to 10 redirects by hand so the token never leaves the hub's origin and
 * X-Linked-Size / X-Linked-Etag / X-Repo-Commit of the first hop are kept. Does not throw on HTTP errors;
 * throws HUB_UNREACHABLE when no answer came (or CANCELLED when `signal` fired).
 */
export async function hubFetch(url: string, options: HubRequestOptions & { method?: 'GET' | 'HEAD' } = {}): Promise<HubResponse> {
  const origin = new URL(url).origin;
  let current = url;
  const result: Omit<HubResponse, 'response' | 'url'> = {};
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity', ...options.headers };
    if (options.token && new URL(current).origin === origin) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    try {
      response = await fetch(current, { method: options.method ?? 'GET', headers, redirect: 'manual', signal: options.signal });
    } catch (err) {
      throw cancelledOr(err, options.signal, () =>
        geulError('HUB_UNREACHABLE', { url: new URL(current).origin, detail: causeDetail(err) }, err));
    }
    result.commit ??= response.headers.get('x-repo-commit') ?? undefined;
    result.linkedSize ??= headerInt(response.headers, 'x-linked-size');
    result.linkedEtag ??= strongEtag(response.headers.get('x-linked-etag'));
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw geulError('HUB_ERROR', { status: `${response.status} (too many redirects)`, url: displayUrl(url) });
      current = new URL(location, current).toString();
      continue;
    }
    return { response, url: current, ...result };
  }
}

export interface DownloadOptions extends HubRequestOptions {
  /** Name passed to onProgress (default: the destination path). */
  label?: string;
  onProgress?: ProgressCallback;
  /** Size the caller already knows (e.g. from the repo listing); checked too. */
  expectedSize?: number;
  /** sha256 the caller already knows (e.g. the LFS oid from the listing); checked too. */
  expectedSha256?: string;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Strong ETag announced by the hub (git blob sha1 or LFS sha256), when any. */
  etag?: string;
  /** Commit the revision resolved to, when the hub said. */
  commit?: string;
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync directories; the rename is still atomic.
  }
}

/**
 * Downloads `url` to `dest` atomically: streams into a unique `<dest>.<pid>-<random>.incomplete` in the same
 * folder, checks the byte count against every size the hub announced (X-Linked-Size, Content-Length, the
 * listing) and the content against a strong ETag (sha256 for LFS files, git blob sha1 otherwise), fsyncs,
 * then renames into place. On any failure the temp file is removed and `dest` is left as it was.
 * Errors: HUB_UNREACHABLE, HUB_ERROR (params.status, params.hubCode), DOWNLOAD_INCOMPLETE, DOWNLOAD_CORRUPT, CANCELLED.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  // The temp file is opened first so the body is read as soon as headers arrive (a stream that errors drops its queue).
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}-${randomBytes(6).toString('hex')}.incomplete`;
  const handle = await open(tmp, 'wx');
  let closed = false;
  let response: Response | undefined;
  try {
    const hub = await hubFetch(url, options);
    response = hub.response;
    const shown = displayUrl(url);
    if (!response.ok || !response.body) throw hubHttpError(response, url);
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const sizes: [string, number | undefined][] = [
      ['X-Linked-Size', hub.linkedSize],
      ['Content-Length', encoded ? undefined : headerInt(response.headers, 'content-length')],
      ['the repo listing', options.expectedSize],
    ];
    const known = sizes.filter((s): s is [string, number] => s[1] !== undefined);
    const expected = known[0]?.[1];
    const maxExpected = known.length > 0 ? Math.max(...known.map((s) => s[1])) : undefined;
    const etag = hub.linkedEtag ?? strongEtag(response.headers.get('etag'));
    const sha256 = createHash('sha256');
    let gitSha1: Hash | undefined;
    if (etag && /^[0-9a-f]{40}$/.test(etag) && expected !== undefined) gitSha1 = createHash('sha1').update(`blob ${expected}\0`);
    const label = options.label ?? dest;
    let received = 0;
    options.onProgress?.(0, expected, label);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        if (maxExpected !== undefined && received > maxExpected) {
          throw geulError('DOWNLOAD_CORRUPT', { url: shown, detail: `received more than the announced ${maxExpected} bytes` });
        }
        sha256.update(chunk);
        gitSha1?.update(chunk);
        await handle.write(chunk);
        options.onProgress?.(received, expected, label);
      }
    } catch (err) {
      throw cancelledOr(err, options.signal, () =>
        geulError('DOWNLOAD_INCOMPLETE', { url: shown, received, expected: expected ?? 'unknown' }, err));
    }
    for (const [source, size] of known) {
      if (received < size) throw geulError('DOWNLOAD_INCOMPLETE', { url: shown, received, expected: size });
      if (received > size) {
        throw geulError('DOWNLOAD_CORRUPT', { url: shown, detail: `got ${received} bytes but ${source} says ${size}` });
      }
    }
    const digest = sha256.digest('hex');
    const wanted: [string, string | undefined, string | undefined][] = [
      ['sha256', options.expectedSha256, digest],
      ['ETag sha256', etag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined, digest],
      ['ETag git blob sha1', gitSha1 ? etag : undefined, gitSha1?.digest('hex')],
    ];
    for (const [what, want, got] of wanted) {
      if (want !== undefined && want !== got) {
        throw geulError('DOWNLOAD_CORRUPT', { url: shown, detail: `${what} is ${got}, expected ${want}` });
      }
    }
    await handle.sync();
    closed = true;
    await handle.close();
    await rename(tmp, dest);
    await fsyncDir(dirname(dest));
    return { path: dest, size: received, sha256: digest, etag, commit: hub.commit };
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    await response?.body?.cancel().catch(() => undefined);
    throw err;
  }
}
