// Where vector files come from: a local path, or `hub:owner/name/path/in/repo` fetched once into the model cache.
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import { ensureModelFiles, type DownloadProgress, type HubConfig } from '../core/hub.js';

export const HUB_PREFIX = 'hub:';

/** Splits `hub:owner/name/file` into the repo id and the file path inside it; undefined for local paths. */
export function parseHubVectors(spec: string): { repo: string; file: string } | undefined {
  if (!spec.startsWith(HUB_PREFIX)) return undefined;
  const parts = spec.slice(HUB_PREFIX.length).split('/');
  if (parts.length < 3 || parts.some((p) => p === '')) {
    throw geulError('INVALID_INPUT', { detail: `"${spec}" should be hub:owner/name/path/to/vectors.bin` });
  }
  return { repo: `${parts[0]}/${parts[1]}`, file: parts.slice(2).join('/') };
}

/** A local file path for `spec`: local paths as they are; hub files through the cache (downloaded when missing). */
export async function resolveVectorsPath(spec: string, config: HubConfig, onProgress?: (p: DownloadProgress) => void): Promise<string> {
  const hub = parseHubVectors(spec);
  if (!hub) return spec;
  const dir = await ensureModelFiles(hub.repo, config, { required: [hub.file], onProgress });
  return join(dir, hub.file);
}
