// A job's artifacts: the regular files in its folder whose path has no hidden (".") segment, and the one safe way
// to turn a requested artifact path into a file inside that folder (no "..", no symlinks, nothing hidden).
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

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
