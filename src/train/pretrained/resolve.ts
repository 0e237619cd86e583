// Finds a Hugging Face encoder checkpoint: a local folder as is, or a Hub id fetched (cache first) file by file.
//
// Only what training and export read is downloaded: config.json, the weights in Hugging Face's order of preference
// (model.safetensors, else its sharded index and shards, else pytorch_model.bin or its sharded index), and the tokenizer
// files the repo has. Everything goes through ensureModelFiles, so caching, offline mode, auth and errors behave as
// for every other model geul pulls.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { ensureModelFiles, type DownloadProgress, type HubConfig } from '../../core/hub.js';
import { parseModelRef } from '../../core/model-id.js';

/** Tokenizer files copied or fetched with a checkpoint when present. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt'] as const;

export interface ResolveOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /**
   * Called with the parsed config.json before any weights are fetched; throw to stop (e.g. an unsupported
   * architecture), so a wrong model costs one small download rather than its checkpoint.
   */
  checkConfig?: (config: unknown, folder: string) => void;
}

/**
 * Returns a local folder holding the checkpoint `idOrFolder` (config.json, weights, tokenizer files when present).
 * Hub ids use `hub.revision`; cached files are used without network, offline a missing file is OFFLINE_NOT_CACHED.
 * Errors: MODEL_NOT_FOUND, MODEL_FILE_MISSING (no config.json or no weights), WEIGHTS_INVALID (bad shard index), and
 * the Hub errors of ensureModelFiles.
 */
export async function resolveCheckpoint(idOrFolder: string, hub: HubConfig, options: ResolveOptions = {}): Promise<string> {
  const ref = parseModelRef(idOrFolder);
  if (ref.kind === 'local') {
    const dir = await ensureModelFiles(idOrFolder, hub, { required: ['config.json'] });
    options.checkConfig?.(await readConfig(dir, idOrFolder), dir);
    return dir;
  }
  const fetch = (required: string[], optional: string[] = []) =>
    ensureModelFiles(ref.id, hub, { required, optional, onProgress: options.onProgress, signal: options.signal });

  const dir = await fetch(['config.json'], [...TOKENIZER_FILES]);
  options.checkConfig?.(await readConfig(dir, ref.id), dir);
  // Hugging Face's order: one safetensors file, sharded safetensors, one torch file, sharded torch files.
  await fetch([], ['model.safetensors']);
  if (await isFile(join(dir, 'model.safetensors'))) return dir;
  const fallbacks = [{ file: 'model.safetensors.index.json', sharded: true }, { file: 'pytorch_model.bin', sharded: false }, { file: 'pytorch_model.bin.index.json', sharded: true }];
  for (const { file, sharded } of fallbacks) {
    await fetch([], [file]);
    if (!(await isFile(join(dir, file)))) continue;
    if (sharded) await fetch(await shardFiles(join(dir, file)));
    return dir;
  }
  throw geulError('MODEL_FILE_MISSING', { model: ref.id, file: 'model.safetensors, model.safetensors.index.json or pytorch_model.bin' });
}

async function readConfig(dir: string, model: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  } catch {
    throw geulError('MODEL_INVALID', { model, detail: 'config.json is not valid JSON' });
  }
}

/** The shard files a `*.index.json` names (its weight_map values), each once. */
async function shardFiles(indexPath: string): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch {
    throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: 'not valid JSON' });
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: 'no "weight_map" object' });
  const files = new Set<string>();
  for (const [name, file] of Object.entries(map)) {
    // Shards sit next to the index (as openSharded reads them); a path elsewhere is refused before any download.
    if (typeof file !== 'string' || file.includes('/') || file.startsWith('.')) {
      throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: `shard "${String(file)}" of "${name}" is not a file name in the checkpoint folder` });
    }
    files.add(file);
  }
  if (files.size === 0) throw geulError('WEIGHTS_INVALID', { path: indexPath, detail: 'the weight_map is empty' });
  return [...files].sort();
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
