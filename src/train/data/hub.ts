// Hugging Face Hub dataset repos as training data: list the repo, pick one split's Parquet files, download them
// (verified, atomic, cache-first) into ${cacheDir}/../datasets/<owner>/<name>/<revision>/ and read them locally.
import { readFile, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { geulError, isGeulError } from '../../core/errors.js';
import { downloadFile, hubFetch, hubHttpError } from '../../core/download.js';
import type { HubConfig } from '../../core/hub.js';
import { checkRepoPath, parseHubId, repoPathProblem, validateRevision } from '../../core/model-id.js';
import type { RepoFile } from '../../core/cache.js';

/** A dataset source: `hf://datasets/owner/name[@revision][/path]` (as in huggingface_hub) or `hf:owner/name[@revision]`. */
export interface HubDatasetRef {
  id: string;
  owner?: string;
  name: string;
  revision?: string;
  /** A file or folder inside the repo to read instead of a split's files. */
  path?: string;
}

const LISTING_FILE = 'geul-dataset.json';

/** Parses an `hf://datasets/…` or `hf:…` source; undefined for anything else (local paths). */
export function parseHubDataset(source: string): HubDatasetRef | undefined {
  const m = /^hf:(?:\/\/datasets\/)?(.+)$/.exec(source);
  if (!m) return undefined;
  const parts = m[1].split('/');
  const repo = parts.slice(0, 2).join('/');
  const at = repo.indexOf('@');
  const idPart = at >= 0 ? repo.slice(0, at) : repo;
  let rest = parts.slice(2).join('/');
  let revision = at >= 0 ? repo.slice(at + 1) : undefined;
  // hf://datasets/owner/name@refs/convert/parquet/… : a revision with "/" cannot be told from a path; take known forms.
  if (revision === 'refs' && /^(convert|pr)\//.test(rest)) {
    const [kind, value, ...tail] = rest.split('/');
    revision = `refs/${kind}/${value}`;
    rest = tail.join('/');
  }
  const ref = parseHubId(idPart);
  if (revision !== undefined) validateRevision(revision, `datasets/${ref.id}`);
  if (rest !== '') checkRepoPath(rest);
  return { id: ref.id, owner: ref.owner, name: ref.name, revision, path: rest || undefined };
}

/** Where dataset snapshots are cached: a `datasets` folder beside the model cache (default ~/.cache/geul/datasets). */
export function datasetsCacheDir(cacheDir: string): string {
  return join(dirname(resolve(cacheDir)), 'datasets');
}

/** True when a repo path belongs to `split`: a folder named so, or a file named `split.parquet` / `split-…` / `split_…`. */
export function isSplitFile(path: string, split: string): boolean {
  const parts = path.split('/');
  const file = parts.pop() as string;
  if (parts.includes(split)) return true;
  return file === `${split}.parquet` || file.startsWith(`${split}-`) || file.startsWith(`${split}_`) || file.startsWith(`${split}.`);
}

async function listDataset(ref: HubDatasetRef, revision: string, config: HubConfig): Promise<RepoFile[]> {
  const base = config.hubUrl.replace(/\/+$/, '');
  const url = `${base}/api/datasets/${ref.id}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const { response } = await hubFetch(url, { token: config.hubToken, headers: { accept: 'application/json' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const err = hubHttpError(response, url);
    const code = err.params.hubCode;
    if (code === 'RepoNotFound' || code === 'RevisionNotFound' || response.status === 404) {
      const where = code === 'RevisionNotFound' ? ` on ${config.hubUrl}: no revision "${revision}"` : ` on ${config.hubUrl}${config.hubToken ? '' : '; if it is private or gated, set GEUL_HUB_TOKEN'}`;
      throw geulError('DATASET_NOT_FOUND', { dataset: ref.id, where }, err);
    }
    throw err;
  }
  const body = (await response.json().catch(() => undefined)) as { siblings?: { rfilename?: unknown; size?: unknown; lfs?: { sha256?: unknown; size?: unknown } }[] } | undefined;
  if (!Array.isArray(body?.siblings)) throw geulError('HUB_ERROR', { status: `${response.status} (no file listing)`, url });
  const files: RepoFile[] = [];
  for (const s of body.siblings) {
    if (typeof s?.rfilename !== 'string' || repoPathProblem(s.rfilename)) continue;
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : typeof s.size === 'number' ? s.size : undefined;
    files.push({ path: s.rfilename, ...(size !== undefined && { size }), ...(typeof s.lfs?.sha256 === 'string' && { sha256: s.lfs.sha256 }) });
  }
  return files;
}

/** The Parquet files to read: those under `ref.path` when given, else those of `split`. */
function selectFiles(ref: HubDatasetRef, files: RepoFile[], split: string): RepoFile[] {
  const parquet = files.filter((f) => f.path.endsWith('.parquet'));
  const chosen = ref.path
    ? parquet.filter((f) => f.path === ref.path || f.path.startsWith(`${ref.path}/`))
    : parquet.filter((f) => isSplitFile(f.path, split));
  if (chosen.length === 0) {
    const have = parquet.map((f) => f.path).slice(0, 10).join(', ') || 'none';
    const want = ref.path ? `no Parquet files at "${ref.path}"` : `no Parquet files for split "${split}"`;
    throw geulError('DATA_INVALID', { path: `hf://datasets/${ref.id}`, where: '', detail: `${want} (Parquet files: ${have}); name a split with --split or a file after the id` });
  }
  return chosen.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export interface HubDatasetOptions {
  /** Split whose files are read when the source names no path (default "train"). */
  split?: string;
  onProgress?: (file: string, received: number, total: number | undefined) => void;
}

/**
 * Makes a dataset split's Parquet files present locally and returns their paths, in repo order. Cache first: with
 * `offline` only the cached listing and files are used (DATASET_NOT_FOUND otherwise). Errors: DATASET_NOT_FOUND,
 * DATA_INVALID (no files for the split), HUB_UNREACHABLE, HUB_ERROR, DOWNLOAD_INCOMPLETE, DOWNLOAD_CORRUPT.
 */
export async function ensureHubDataset(ref: HubDatasetRef, config: HubConfig, options: HubDatasetOptions = {}): Promise<string[]> {
  const revision = validateRevision(ref.revision ?? config.revision ?? 'main', `datasets/${ref.id}`);
  const dir = join(datasetsCacheDir(config.cacheDir), ref.owner ?? '@', ref.name, encodeURIComponent(revision));
  const listingPath = join(dir, LISTING_FILE);
  let listing: RepoFile[];
  if (config.offline) {
    const saved = await readFile(listingPath, 'utf8').then((t) => JSON.parse(t) as { files: RepoFile[] }, () => undefined);
    if (!saved) throw geulError('DATASET_NOT_FOUND', { dataset: ref.id, where: ` in the cache (offline mode; read it once while online)` });
    listing = saved.files;
  } else {
    listing = await listDataset(ref, revision, config);
    await mkdir(dir, { recursive: true });
    const tmp = `${listingPath}.${process.pid}.incomplete`;
    await writeFile(tmp, JSON.stringify({ id: ref.id, revision, files: listing, listedAt: new Date().toISOString() }, null, 2));
    await rename(tmp, listingPath);
  }
  const paths: string[] = [];
  for (const file of selectFiles(ref, listing, options.split ?? 'train')) {
    const dest = join(dir, ...file.path.split('/'));
    const have = await stat(dest).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
    if (have === undefined || (file.size !== undefined && have !== file.size)) {
      if (config.offline) throw geulError('DATASET_NOT_FOUND', { dataset: ref.id, where: `: "${file.path}" is not cached (offline mode; read it once while online)` });
      const url = `${config.hubUrl.replace(/\/+$/, '')}/datasets/${ref.id}/resolve/${encodeURIComponent(revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
      try {
        await downloadFile(url, dest, {
          token: config.hubToken, label: file.path, expectedSize: file.size, expectedSha256: file.sha256,
          onProgress: options.onProgress && ((received, total) => options.onProgress?.(file.path, received, total)),
        });
      } catch (err) {
        if (isGeulError(err) && err.code === 'HUB_ERROR' && err.params.status === 404) throw geulError('DATASET_NOT_FOUND', { dataset: ref.id, where: `: no file "${file.path}" at revision "${revision}"` }, err);
        throw err;
      }
    }
    paths.push(dest);
  }
  return paths;
}
