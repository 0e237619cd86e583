// A job's artifacts: the regular files in its folder whose path has no hidden (".") segment, and the one safe way
// to turn a requested artifact path into a file inside that folder (no "..", no symlinks, nothing hidden); and the
// ArtifactStore contract the local and S3 stores implement (artifact-store.ts, s3-artifacts.ts).
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { geulError, isGeulError } from '../core/errors.js';

export interface Artifact { name: string; bytes: number }

/** Hidden files are the job's own state; temporary files (writers' "*.tmp*" before their rename) are not done yet. */
const hidden = (segment: string) => segment.startsWith('.') || /\.tmp(?:$|[-.])|\.incomplete$|\.partial$/.test(segment);

export async function listArtifacts(workDir: string): Promise<Artifact[]> {
  const out: Artifact[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (hidden(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        // A file may be replaced or removed between readdir and lstat (atomic writes): list what is there.
        const info = await lstat(path).catch(() => undefined);
        if (info?.isFile()) out.push({ name: relative(workDir, path).split(sep).join('/'), bytes: info.size });
      }
    }
  };
  await walk(workDir);
  return out;
}

/** Whether a requested path can name an artifact at all: "/"-separated, no empty, "..", hidden or temporary segment. */
export function validArtifactName(name: string): boolean {
  const segments = name.split('/');
  return name !== '' && !segments.some((s) => s === '' || s === '..' || hidden(s) || s.includes('\\') || s.includes('\0'));
}

/** The file an artifact path names, or undefined when it is not an artifact of this folder. */
export async function artifactFile(workDir: string, name: string): Promise<{ path: string; bytes: number } | undefined> {
  if (!validArtifactName(name)) return undefined;
  const segments = name.split('/');
  const root = resolve(workDir);
  const path = resolve(root, ...segments);
  if (!path.startsWith(root + sep)) return undefined;
  // Every segment must be a real folder or file, never a link pointing out of the job's folder.
  let at = root;
  for (const s of segments) {
    at = join(at, s);
    const info = await lstat(at).catch(() => undefined);
    if (!info || info.isSymbolicLink()) return undefined;
    if (at === path) return info.isFile() ? { path, bytes: info.size } : undefined;
  }
  return undefined;
}

/** One `bytes=` range of a file (suffix and open ranges too); undefined: serve it whole; 'unsatisfiable': 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** A byte range, both ends included (as HTTP's `Range: bytes=start-end`). */
export interface ByteRange { start: number; end: number }

export interface ArtifactStore {
  readonly kind: 'local' | 's3';
  /** True: only published (succeeded) jobs have artifacts here, so readers need not ask about the others. */
  readonly onlyPublished: boolean;
  /** For logs and errors: "local folder /srv/artifacts", "s3://bucket/prefix". Never holds a secret. */
  readonly description: string;
  /** Fails with ARTIFACT_STORE_FAILED unless the store can be used: checked at start, not after hours of training. */
  check(): Promise<void>;
  /**
   * Makes the artifacts in a finished job's work folder (see listArtifacts) the job's published set, replacing an
   * earlier one whole: publishing twice gives the same result (delivery is at least once).
   */
  publish(jobId: string, workDir: string): Promise<Artifact[]>;
  /** The job's artifacts, sorted by name; [] when it published none. */
  list(jobId: string): Promise<Artifact[]>;
  /** An artifact's size, or undefined when the job has no artifact of that name (never a path outside it). */
  stat(jobId: string, name: string): Promise<{ bytes: number } | undefined>;
  /** The artifact's bytes (one range of them); call after `stat` said it exists. */
  read(jobId: string, name: string, range?: ByteRange): Promise<Readable>;
  close(): Promise<void>;
}

const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Job ids become folder names and object keys: refuse anything else before it reaches a path. */
export function checkJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw geulError('INVALID_INPUT', { detail: `job id "${jobId.slice(0, 64)}" is not a job id` });
  return jobId;
}

/** Wraps a store's I/O failure in the catalog error, leaving geul's own errors as they are. */
export function storeFailure(store: string, action: string, err: unknown): Error {
  if (isGeulError(err)) return err;
  return geulError('ARTIFACT_STORE_FAILED', { store, action, detail: err instanceof Error ? err.message : String(err) }, { cause: err });
}
