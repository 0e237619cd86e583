// Hugging Face Hub client: repo listing, cache-first model files (ensureModelFiles) and `pull` with dtype-aware selection.
// Files land in the cache laid out as documented in cache.ts: ${cacheDir}/${owner}/${name}/${revision}/<repo files>.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeulConfig } from './config.js';
import { geulError, isGeulError, type GeulError } from './errors.js';
import { downloadFile, hubFetch, hubHttpError, type DownloadResult } from './download.js';
import { checkRepoPath, parseHubId, parseModelRef, repoPathProblem, validateRevision, type HubModelRef } from './model-id.js';
import { listFolderFiles, pruneEmptyDirs, readMeta, snapshotDir, updateMeta, type RepoFile, type SnapshotMeta } from './cache.js';
import {
  availableDtypes, guessPullFiles, onnxFilePath, resolveDtype, selectPullFiles, type ConcreteDtype, type Dtype,
} from './hub-files.js';

export { onnxFileName, onnxFilePath, DTYPE_SUFFIX, resolveDtype, selectOnnxFiles, type Dtype, type ConcreteDtype } from './hub-files.js';
export type { ProgressCallback } from './download.js';

/** One progress event of ensureModelFiles / pullModel: bytes of `file` so far and its size when known. */
export interface DownloadProgress {
  model: string;
  file: string;
  received: number;
  total: number | undefined;
}

/** The config fields the hub client uses. */
export type HubConfig = Pick<GeulConfig, 'hubUrl' | 'revision' | 'cacheDir' | 'offline'> & { hubToken?: string };

export interface RepoListing {
  /** Commit the revision points at, when the hub said. */
  sha?: string;
  files: RepoFile[];
}

function hubBase(config: Pick<HubConfig, 'hubUrl'>): string {
  let url: URL;
  try {
    url = new URL(config.hubUrl);
  } catch {
    throw geulError('INVALID_CONFIG', { detail: `hubUrl "${config.hubUrl}" is not a URL` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw geulError('INVALID_CONFIG', { detail: `hubUrl must be http(s), got "${config.hubUrl}"` });
  return config.hubUrl.replace(/\/+$/, '');
}

/** `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${file}` (file segments URL-encoded), as on the real Hub. */
export function resolveUrl(config: Pick<HubConfig, 'hubUrl'>, repo: string, revision: string, file: string): string {
  const path = checkRepoPath(file).split('/').map(encodeURIComponent).join('/');
  return `${hubBase(config)}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

function notFoundWhere(config: HubConfig, revision: string, hubCode?: string): string {
  const rev = hubCode === 'RevisionNotFound' ? `: no revision "${revision}"` : ` (revision "${revision}")`;
  const hint = !config.hubToken && hubCode !== 'RevisionNotFound' ? '; if it is private or gated, set GEUL_HUB_TOKEN' : '';
  return ` on ${config.hubUrl}${rev}${hint}`;
}

/** The Hub's answer for a missing repo or revision, if that is what `err` says. */
function repoMissing(err: unknown, id: string, config: HubConfig, revision: string): GeulError | undefined {
  if (!isGeulError(err) || err.code !== 'HUB_ERROR') return undefined;
  const hubCode = err.params.hubCode as string | undefined;
  if (hubCode === 'RepoNotFound' || hubCode === 'RevisionNotFound') {
    return geulError('MODEL_NOT_FOUND', { model: id, where: notFoundWhere(config, revision, hubCode) }, err);
  }
  return undefined;
}

/**
 * Lists a repo revision via `GET ${hubUrl}/api/models/${repo}/revision/${revision}?blobs=true` (siblings with size,
 * blob id and LFS sha256). Returns undefined when the hub has no such API (plain 404/405/501, or not JSON) so callers
 * can fall back; a missing repo/revision (per X-Error-Code) is MODEL_NOT_FOUND; other failures HUB_ERROR/HUB_UNREACHABLE.
 * Unsafe file names (absolute, `..`) in the answer are dropped.
 */
export async function listRepoFiles(repo: string, revision: string, config: HubConfig, options: { signal?: AbortSignal } = {}): Promise<RepoListing | undefined> {
  const ref = parseHubId(repo);
  validateRevision(revision, ref.id);
  const url = `${hubBase(config)}/api/models/${ref.id}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const { response } = await hubFetch(url, { token: config.hubToken, signal: options.signal, headers: { accept: 'application/json' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const err = hubHttpError(response, url);
    const missing = repoMissing(err, ref.id, config, revision);
    if (missing) throw missing;
    if ([404, 405, 501].includes(response.status)) return undefined;
    throw err;
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return undefined;
  }
  const siblings = (body as { siblings?: unknown })?.siblings;
  if (!Array.isArray(siblings)) return undefined;
  const files: RepoFile[] = [];
  for (const s of siblings as { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown; size?: unknown } }[]) {
    if (typeof s?.rfilename !== 'string' || repoPathProblem(s.rfilename)) continue;
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : typeof s.size === 'number' ? s.size : undefined;
    files.push({
      path: s.rfilename,
      ...(size !== undefined && { size }),
      ...(typeof s.blobId === 'string' && { oid: s.blobId }),
      ...(typeof s.lfs?.sha256 === 'string' && { sha256: s.lfs.sha256 }),
    });
  }
  const sha = (body as { sha?: unknown }).sha;
  return { sha: typeof sha === 'string' ? sha : undefined, files };
}

export interface EnsureOptions {
  /** Repo paths that must exist (`config.json`, `onnx/model_quantized.onnx`). */
  required: string[];
  /** Repo paths fetched when the hub has them; a 404 is remembered and not asked again. */
  optional?: string[];
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface SyncedFile {
  path: string;
  size: number;
  /** true when fetched by this call, false when it came from the cache. */
  downloaded: boolean;
}

interface SyncOptions extends EnsureOptions {
  /** Listing entries (sizes, hashes) for the files; with `refresh`, cached files whose hash differs are re-fetched. */
  expected?: Map<string, RepoFile>;
  refresh?: boolean;
}

const inFlight = new Map<string, Promise<DownloadResult>>();

async function cachedSize(dir: string, path: string, meta: SnapshotMeta | undefined): Promise<number | undefined> {
  const s = await stat(join(dir, path)).catch(() => undefined);
  if (!s?.isFile()) return undefined;
  const known = meta?.files[path]?.size;
  return known === undefined || known === s.size ? s.size : undefined;
}

/** Keeps Hub-style ETags only (git blob sha1 or LFS sha256), the ones a listing can be compared with. */
function hashEtag(etag: string | undefined): string | undefined {
  return etag && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(etag) ? etag : undefined;
}

function isStale(meta: SnapshotMeta | undefined, entry: RepoFile | undefined, path: string): boolean {
  const etag = meta?.files[path]?.etag;
  const want = entry?.sha256 ?? entry?.oid;
  return etag !== undefined && want !== undefined && etag !== want;
}

/** An optional file the hub answered 404 for, or that the repo listing of the last pull does not name: not asked for. */
function knownAbsent(meta: SnapshotMeta | undefined, path: string): boolean {
  if (meta?.absent?.includes(path)) return true;
  return meta?.listing !== undefined && meta.listing.files.length > 0 && !meta.listing.files.some((f) => f.path === path);
}

/** Makes the files of one hub snapshot present in the cache; network only for what is missing (or stale on refresh). */
async function syncSnapshot(ref: HubModelRef, revision: string, config: HubConfig, options: SyncOptions): Promise<{ dir: string; files: SyncedFile[] }> {
  const dir = snapshotDir(config.cacheDir, ref, revision);
  const required = [...new Set(options.required.map(checkRepoPath))];
  const optional = [...new Set((options.optional ?? []).map(checkRepoPath))].filter((f) => !required.includes(f));
  const meta = await readMeta(dir);
  const files: SyncedFile[] = [];
  const todo: { path: string; required: boolean; stale: boolean }[] = [];
  for (const [list, isRequired] of [[required, true], [optional, false]] as const) {
    for (const path of list) {
      const size = await cachedSize(dir, path, meta);
      const stale = options.refresh && isStale(meta, options.expected?.get(path), path);
      if (size !== undefined && !stale) files.push({ path, size, downloaded: false });
      else if (size !== undefined && config.offline) files.push({ path, size, downloaded: false });
      else if (isRequired || !knownAbsent(meta, path)) todo.push({ path, required: isRequired, stale: stale === true });
    }
  }
  if (todo.length === 0) return { dir, files };
  const onProgress = options.onProgress;
  if (config.offline) {
    const missing = todo.find((t) => t.required);
    if (missing) throw geulError('OFFLINE_NOT_CACHED', { model: ref.id, file: missing.path });
    return { dir, files };
  }
  for (const { path, required: isRequired, stale } of todo) {
    const dest = join(dir, path);
    const entry = options.expected?.get(path);
    let result: DownloadResult;
    try {
      let pending = inFlight.get(dest);
      if (!pending && !stale) {
        // A concurrent call may have fetched it since `todo` was made (its download is no longer in flight): no second download.
        const arrived = await cachedSize(dir, path, await readMeta(dir));
        if (arrived !== undefined) {
          files.push({ path, size: arrived, downloaded: false });
          continue;
        }
        pending = inFlight.get(dest); // or one started meanwhile
      }
      if (!pending) {
        pending = downloadFile(resolveUrl(config, ref.id, revision, path), dest, {
          token: config.hubToken, label: path, signal: options.signal,
          onProgress: onProgress && ((received, total, file) => onProgress({ model: ref.id, file, received, total })),
          expectedSize: entry?.size, expectedSha256: entry?.sha256,
        });
        inFlight.set(dest, pending);
        pending.then(() => inFlight.delete(dest), () => inFlight.delete(dest));
      }
      result = await pending;
    } catch (err) {
      const missing = repoMissing(err, ref.id, config, revision);
      if (missing) throw missing;
      if (!isGeulError(err) || err.code !== 'HUB_ERROR' || err.params.status !== 404) throw err;
      if (!isRequired) {
        await updateMeta(dir, ref, revision, (m) => void (m.absent = [...new Set([...(m.absent ?? []), path])].sort()));
        continue;
      }
      throw await missingFileError(ref, revision, config, path, err);
    }
    await updateMeta(dir, ref, revision, (m) => {
      m.sha = result.commit ?? m.sha;
      m.files[path] = { size: result.size, etag: hashEtag(result.etag) ?? entry?.sha256 ?? entry?.oid, downloadedAt: new Date().toISOString() };
      if (m.absent) m.absent = m.absent.filter((a) => a !== path);
    });
    files.push({ path, size: result.size, downloaded: true });
  }
  return { dir, files };
}

/** A 404 on a required file: MODEL_FILE_MISSING, or MODEL_NOT_FOUND when the repo's config.json 404s too. */
async function missingFileError(ref: HubModelRef, revision: string, config: HubConfig, path: string, err: GeulError): Promise<GeulError> {
  const notFound = (): GeulError => geulError('MODEL_NOT_FOUND', { model: ref.id, where: notFoundWhere(config, revision) }, err);
  if (err.params.hubCode === 'EntryNotFound') return geulError('MODEL_FILE_MISSING', { model: ref.id, file: path }, err);
  if (path === 'config.json') return notFound();
  try {
    const { response } = await hubFetch(resolveUrl(config, ref.id, revision, 'config.json'), { method: 'HEAD', token: config.hubToken });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404 || response.headers.get('x-error-code') === 'RepoNotFound') return notFound();
  } catch {
    // Fall through: the file is what we know is missing.
  }
  return geulError('MODEL_FILE_MISSING', { model: ref.id, file: path }, err);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * Returns a local folder holding the model's files. Local folders: checked (MODEL_NOT_FOUND / MODEL_FILE_MISSING).
 * Hub ids: cache first, without any network when every required file (and every optional one not known to be
 * absent) is cached; missing files are downloaded unless offline (OFFLINE_NOT_CACHED). Errors: MODEL_NOT_FOUND,
 * MODEL_FILE_MISSING, HUB_UNREACHABLE, HUB_ERROR, DOWNLOAD_INCOMPLETE, DOWNLOAD_CORRUPT, INVALID_MODEL_ID.
 */
export async function ensureModelFiles(id: string, config: HubConfig, options: EnsureOptions): Promise<string> {
  const ref = parseModelRef(id);
  if (ref.kind === 'local') {
    if (!(await isDirectory(ref.path))) throw geulError('MODEL_NOT_FOUND', { model: id, where: ` at ${ref.path}` });
    for (const file of options.required) {
      const s = await stat(join(ref.path, checkRepoPath(file))).catch(() => undefined);
      if (!s?.isFile()) throw geulError('MODEL_FILE_MISSING', { model: id, file });
    }
    return ref.path;
  }
  const revision = validateRevision(config.revision, ref.id);
  return pruningOnError(snapshotDir(config.cacheDir, ref, revision), config.cacheDir, async () =>
    (await syncSnapshot(ref, revision, config, options)).dir);
}

/** Runs `work`; if it fails, removes folders it left empty (no litter for models that do not exist). */
async function pruningOnError<T>(dir: string, cacheDir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await pruneEmptyDirs(join(dir, 'onnx'), cacheDir);
    throw err;
  }
}

/**
 * The dtype to load from a model folder (a cache snapshot or local folder): explicit dtypes as they are; `auto` →
 * what resolveDtype picks among the ONNX files present there (so `pull --dtype q8` then `auto` offline uses q8),
 * fp32 when none are present yet.
 */
export async function resolveLocalDtype(dir: string, requested: Dtype): Promise<ConcreteDtype> {
  if (requested !== 'auto') return requested;
  const present = (await listFolderFiles(dir)).map((f) => f.path);
  return resolveDtype(present, 'auto', await readJson(join(dir, 'config.json')).catch(() => undefined));
}

export interface PullOptions {
  /** Weight precision; default config.dtype (`auto`: see resolveDtype). */
  dtype?: Dtype;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface PullResult {
  id: string;
  revision: string;
  sha?: string;
  dtype: ConcreteDtype;
  dir: string;
  files: SyncedFile[];
  downloadedBytes: number;
  totalSize: number;
}

function pullRef(id: string): HubModelRef {
  try {
    return parseHubId(id);
  } catch (err) {
    if (isGeulError(err) && err.code === 'INVALID_MODEL_ID' && /^(\/|\.\.?\/|~\/)/.test(id)) {
      throw geulError('INVALID_MODEL_ID', { model: id, detail: 'a local folder needs no pull; only hub ids are downloaded' });
    }
    throw err;
  }
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/**
 * Downloads what transformers.js needs for a hub model at config.revision: config/tokenizer files and the ONNX
 * weights of one dtype (with external data), as selected by hub-files.ts from the repo listing. Already cached files
 * are kept unless the listing shows they changed. Offline, it only checks the cache (OFFLINE_NOT_CACHED if short).
 */
export async function pullModel(id: string, config: HubConfig & { dtype?: Dtype }, options: PullOptions = {}): Promise<PullResult> {
  const ref = pullRef(id);
  const revision = validateRevision(config.revision, ref.id);
  const dir = snapshotDir(config.cacheDir, ref, revision);
  return pruningOnError(dir, config.cacheDir, () => pullInto(ref, revision, dir, config, options));
}

async function pullInto(ref: HubModelRef, revision: string, dir: string, config: HubConfig & { dtype?: Dtype }, options: PullOptions): Promise<PullResult> {
  const sync = (required: string[], optional: string[], expected?: Map<string, RepoFile>) =>
    syncSnapshot(ref, revision, config, { required, optional, expected, refresh: true, onProgress: options.onProgress, signal: options.signal });

  let listing: RepoListing | undefined;
  if (config.offline) {
    const meta = await readMeta(dir);
    listing = meta?.listing ? { sha: meta.sha, files: meta.listing.files } : { files: await listFolderFiles(dir) };
  } else {
    listing = await listRepoFiles(ref.id, revision, config, { signal: options.signal });
  }
  const requested = options.dtype ?? config.dtype ?? 'auto';
  const synced: SyncedFile[] = [];
  let dtype: ConcreteDtype;
  if (listing) {
    const paths = listing.files.map((f) => f.path);
    const expected = new Map(listing.files.map((f) => [f.path, f]));
    const first = await sync(['config.json'], [], expected);
    synced.push(...first.files);
    dtype = resolveDtype(paths, requested, await readJson(join(dir, 'config.json')).catch(() => undefined));
    const { support, onnx } = selectPullFiles(paths, dtype);
    if (onnx.length === 0) {
      const have = availableDtypes(paths);
      const file = `${onnxFilePath('model', dtype)} (available dtypes: ${have.length > 0 ? have.join(', ') : 'none'})`;
      throw geulError('MODEL_FILE_MISSING', { model: ref.id, file });
    }
    const rest = await sync([...support, ...onnx].filter((f) => f !== 'config.json'), [], expected);
    synced.push(...rest.files);
    if (!config.offline) {
      await updateMeta(dir, ref, revision, (m) => {
        m.sha = listing?.sha ?? m.sha;
        m.listing = { files: listing?.files ?? [], listedAt: new Date().toISOString() };
      });
    }
  } else {
    // No listing API: fetch config.json, then guess the usual names (all optional) for the dtype.
    const first = await sync(['config.json'], []);
    synced.push(...first.files);
    dtype = requested === 'auto' ? resolveDtype([], 'auto', await readJson(join(dir, 'config.json')).catch(() => undefined)) : requested;
    const guess = guessPullFiles(dtype);
    const rest = await sync([], [...guess.support.filter((f) => f !== 'config.json'), ...guess.onnx]);
    synced.push(...rest.files);
    const found = rest.files.filter((f) => guess.onnx.includes(f.path)).map((f) => f.path);
    if (found.length === 0) throw geulError('MODEL_FILE_MISSING', { model: ref.id, file: onnxFilePath('model', dtype) });
    // Single-file external data is the common case; further chunks cannot be guessed without a listing.
    synced.push(...(await sync([], found.map((f) => `${f}_data`))).files);
  }
  const meta = await readMeta(dir);
  return {
    id: ref.id,
    revision,
    sha: meta?.sha ?? listing?.sha,
    dtype,
    dir,
    files: synced,
    downloadedBytes: synced.filter((f) => f.downloaded).reduce((s, f) => s + f.size, 0),
    totalSize: synced.reduce((s, f) => s + f.size, 0),
  };
}
