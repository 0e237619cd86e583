// Whole-file writes: through a temporary file and a rename, so a reader sees the old file or the new one, never half.
import { rename, writeFile } from 'node:fs/promises';

/** Writes `data` to `path` through a temporary file and a rename, so readers see the old or the new file, whole. */
export async function writeAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, Array.isArray(data) ? Buffer.concat(data as Uint8Array[]) : (data as string | Uint8Array));
  await rename(tmp, path);
}
