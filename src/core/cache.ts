// The model cache on disk: one folder per hub repo revision plus a geul-meta.json; list, inspect, remove.
//
// Cache layout (cacheDir defaults to $XDG_CACHE_HOME/geul/models):
//   ${cacheDir}/
//     ${owner}/${name}/              one folder per hub repo; owner-less ids ("gpt2") use the owner folder "@"
//       ${revision}/                 one snapshot per revision as requested (branch, tag or commit), folder name is
//                                    encodeURIComponent(revision) ("refs/pr/1" → "refs%2Fpr%2F1")
//         config.json, tokenizer.json, onnx/model_quantized.onnx …   the repo's files at their repo paths: a folder
//                                    transformers.js loads as a local model
//         geul-meta.json             { version, id, revision, sha, files: { path: { size, etag, downloadedAt } },
//                                      absent: [optional files the hub lacks], listing, updatedAt }
//         *.<pid>-<rand>.incomplete  downloads in flight; renamed into place only once verified, ignored here
// A branch revision ("main") keeps mapping to its snapshot until `geul models pull` refreshes it.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { GeulConfig } from './config.js';
import { geulError } from './errors.js';
import { parseHubId, parseModelRef, validateRevision, type HubModelRef } from './model-id.js';

export const META_FILE = 'geul-meta.json';
/** Owner folder for owner-less ids; "@" is not a valid hub owner, so it cannot collide. */
export const NO_OWNER_DIR = '@';

/** A file in a hub repo listing; size/oid/sha256 when the hub reported them. */
export interface RepoFile {
  path: string;
  size?: number;
  /** git blob id */
  oid?: string;
  /** LFS sha256 */
  sha256?: string;
}

export interface FileMeta {
  size: number;
  etag?: string;
  downloadedAt: string;
}

export interface SnapshotMeta {
  version: 1;
  id: string;
  revision: string;
  /** Commit the revision resolved to when last downloaded, if the hub said. */
  sha?: string;
  files: Record<string, FileMeta>;
  /** Optional files the hub answered 404 for (not asked again). */
  absent?: string[];
  /** The last repo listing seen (lets `pull` work offline). */
  listing?: { files: RepoFile[]; listedAt: string };
  updatedAt: string;
}

export interface CachedFile {
  path: string;
  size: number;
  downloadedAt?: string;
}

export interface CachedSnapshot {
  revision: string;
  sha?: string;
  dir: string;
  files: CachedFile[];
  totalSize: number;
  updatedAt?: string;
}

export interface CachedModel {
  id: string;
  /** The repo folder (hub) or the folder itself (local). */
  dir: string;
  local?: boolean;
  revisions: CachedSnapshot[];
  totalSize: number;
}

type CacheConfig = Pick<GeulConfig, 'cacheDir'>;

/** `${cacheDir}/${owner}/${name}` (owner "@" for owner-less ids). */
export function repoCacheDir(cacheDir: string, ref: HubModelRef): string {
  return join(resolve(cacheDir), ref.owner ?? NO_OWNER_DIR, ref.name);
}

/** `${cacheDir}/${owner}/${name}/${encodeURIComponent(revision)}`. */
export function snapshotDir(cacheDir: string, ref: HubModelRef, revision: string): string {
  return join(repoCacheDir(cacheDir, ref), encodeURIComponent(validateRevision(revision, ref.id)));
}

export async function readMeta(dir: string): Promise<SnapshotMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as SnapshotMeta;
    return meta && typeof meta === 'object' && meta.files ? meta : undefined;
  } catch {
    return undefined;
  }
}

const metaLocks = new Map<string, Promise<unknown>>();

/** Read-modify-write of a snapshot's meta, serialised per folder in this process, written atomically. */
export async function updateMeta(dir: string, ref: HubModelRef, revision: string, mutate: (meta: SnapshotMeta) => void): Promise<SnapshotMeta> {
  const run = async (): Promise<SnapshotMeta> => {
    const meta: SnapshotMeta = (await readMeta(dir)) ?? { version: 1, id: ref.id, revision, files: {}, updatedAt: '' };
    mutate(meta);
    meta.updatedAt = new Date().toISOString();
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${META_FILE}.${process.pid}-${randomBytes(4).toString('hex')}.incomplete`);
    await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
    await rename(tmp, join(dir, META_FILE));
    return meta;
  };
  const previous = metaLocks.get(dir) ?? Promise.resolve();
  const next = previous.then(run, run);
  metaLocks.set(dir, next.catch(() => undefined));
  try {
    return await next;
  } finally {
    if (metaLocks.get(dir) === next) metaLocks.delete(dir);
  }
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Files of a snapshot or local model folder (repo paths, sizes), without geul-meta.json and in-flight downloads. */
export async function listFolderFiles(dir: string): Promise<CachedFile[]> {
  const out: CachedFile[] = [];
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && !entry.name.endsWith('.incomplete')) {
        const rel = relative(dir, full).split(sep).join('/');
        if (rel !== META_FILE) out.push({ path: rel, size: (await stat(full)).size });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function snapshotInfo(dir: string, fallbackRevision: string): Promise<CachedSnapshot> {
  const meta = await readMeta(dir);
  const files = (await listFolderFiles(dir)).map((f) => ({ ...f, downloadedAt: meta?.files[f.path]?.downloadedAt }));
  return {
    revision: meta?.revision ?? fallbackRevision,
    sha: meta?.sha,
    dir,
    files,
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
    updatedAt: meta?.updatedAt,
  };
}

function decodeFolder(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

async function repoInfo(id: string, dir: string, only?: string): Promise<CachedModel> {
  const revisions: CachedSnapshot[] = [];
  for (const name of await subdirs(dir)) {
    if (only !== undefined && name !== encodeURIComponent(only)) continue;
    const snapshot = await snapshotInfo(join(dir, name), decodeFolder(name));
    if (snapshot.files.length > 0 || existsSync(join(snapshot.dir, META_FILE))) revisions.push(snapshot);
  }
  return { id, dir, revisions, totalSize: revisions.reduce((sum, r) => sum + r.totalSize, 0) };
}

/** Every cached hub model with its snapshots, sorted by id. */
export async function listCachedModels(config: CacheConfig): Promise<CachedModel[]> {
  const root = resolve(config.cacheDir);
  const models: CachedModel[] = [];
  for (const owner of await subdirs(root)) {
    if (owner.startsWith('.')) continue;
    for (const name of await subdirs(join(root, owner))) {
      const id = owner === NO_OWNER_DIR ? name : `${owner}/${name}`;
      const info = await repoInfo(id, join(root, owner, name));
      if (info.revisions.length > 0) models.push(info);
    }
  }
  return models.sort((a, b) => a.id.localeCompare(b.id));
}

/** Removes `dir` and its parents up to (not including) `stopAt` while they are empty. */
export async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  const root = resolve(stopAt);
  for (let current = resolve(dir); current.startsWith(root + sep); current = resolve(current, '..')) {
    const entries = await readdir(current).catch(() => undefined);
    if (entries === undefined) continue;
    if (entries.length > 0 || !(await rmdir(current).then(() => true, () => false))) return;
  }
}

function notCached(id: string, revision?: string): never {
  const where = revision === undefined ? ' in the cache' : ` in the cache at revision "${revision}"`;
  throw geulError('MODEL_NOT_FOUND', { model: id, where: `${where} (run \`geul models pull ${id}\`)` });
}

/** Cached snapshots of one model (all revisions, or just `revision`); a local folder is described as-is. */
export async function cachedModelInfo(id: string, config: CacheConfig, options: { revision?: string } = {}): Promise<CachedModel> {
  const ref = parseModelRef(id);
  if (ref.kind === 'local') {
    if (!(await isDir(ref.path))) throw geulError('MODEL_NOT_FOUND', { model: id, where: ` at ${ref.path}` });
    const snapshot = await snapshotInfo(ref.path, 'local');
    return { id, dir: ref.path, local: true, revisions: [{ ...snapshot, revision: 'local' }], totalSize: snapshot.totalSize };
  }
  return hubCacheInfo(ref, config, options.revision);
}

async function hubCacheInfo(ref: HubModelRef, config: CacheConfig, revision?: string): Promise<CachedModel> {
  if (revision !== undefined) validateRevision(revision, ref.id);
  const info = await repoInfo(ref.id, repoCacheDir(config.cacheDir, ref), revision);
  if (info.revisions.length === 0) notCached(ref.id, revision);
  return info;
}

/** Deletes a cached model (every revision, or just `revision`); returns what went and the bytes freed. */
export async function removeCachedModel(
  id: string,
  config: CacheConfig,
  options: { revision?: string } = {},
): Promise<{ id: string; removed: string[]; freedBytes: number }> {
  const ref = parseHubId(id);
  const root = resolve(config.cacheDir);
  const info = await hubCacheInfo(ref, config, options.revision);
  for (const snapshot of info.revisions) {
    if (!resolve(snapshot.dir).startsWith(root + sep)) throw geulError('INTERNAL', {});
    await rm(snapshot.dir, { recursive: true, force: true });
  }
  await pruneEmptyDirs(repoCacheDir(root, ref), root);
  return { id: ref.id, removed: info.revisions.map((r) => r.revision), freedBytes: info.totalSize };
}
