// Which repo files a transformers.js model needs: ONNX naming per dtype, external data, tokenizer/config files.
import { DTYPES } from './config.js';

export type Dtype = (typeof DTYPES)[number];
export type ConcreteDtype = Exclude<Dtype, 'auto'>;

/** The folder transformers.js loads ONNX files from. */
export const ONNX_DIR = 'onnx';

/** transformers.js file-name suffix per dtype (`model` + suffix + `.onnx`). */
export const DTYPE_SUFFIX: Readonly<Record<ConcreteDtype, string>> = Object.freeze({
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
});

/** Suffixes transformers.js knows but geul does not load; recognised so they are not mistaken for fp32 bases. */
const OTHER_SUFFIXES = ['_q2', '_q1', '_q2f16', '_q1f16'];

/** Order in which `auto` picks a dtype when the repo has no fp32 weights. */
const AUTO_PREFERENCE: ConcreteDtype[] = ['fp32', 'q8', 'fp16', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

/** Small files a transformers.js model may need besides the ONNX weights (all at the repo root). */
export const SUPPORT_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'preprocessor_config.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'sentencepiece.bpe.model',
];

/** Maps `auto` to what transformers.js uses on Node's CPU backend (fp32); other dtypes pass through. */
export function concreteDtype(dtype: Dtype): ConcreteDtype {
  return dtype === 'auto' ? 'fp32' : dtype;
}

/** transformers.js ONNX file name: onnxFileName('model', 'q8') → 'model_quantized.onnx' (`auto` means fp32). */
export function onnxFileName(base: string, dtype: Dtype): string {
  return `${base}${DTYPE_SUFFIX[concreteDtype(dtype)]}.onnx`;
}

/** Repo path of an ONNX file: onnxFilePath('encoder_model', 'fp16') → 'onnx/encoder_model_fp16.onnx'. */
export function onnxFilePath(base: string, dtype: Dtype): string {
  return `${ONNX_DIR}/${onnxFileName(base, dtype)}`;
}

/** Splits an ONNX file name into base and dtype ('other' for dtypes geul does not load); undefined if not *.onnx. */
export function parseOnnxFileName(fileName: string): { base: string; dtype: ConcreteDtype | 'other' } | undefined {
  if (!fileName.endsWith('.onnx')) return undefined;
  const stem = fileName.slice(0, -'.onnx'.length);
  const suffixes: [string, ConcreteDtype | 'other'][] = [
    ...Object.entries(DTYPE_SUFFIX).filter(([, s]) => s !== '').map(([d, s]) => [s, d as ConcreteDtype] as [string, ConcreteDtype]),
    ...OTHER_SUFFIXES.map((s) => [s, 'other'] as [string, 'other']),
  ].sort((a, b) => b[0].length - a[0].length);
  for (const [suffix, dtype] of suffixes) {
    if (stem.endsWith(suffix) && stem.length > suffix.length) return { base: stem.slice(0, -suffix.length), dtype };
  }
  return stem === '' ? undefined : { base: stem, dtype: 'fp32' };
}

/** ONNX files directly under onnx/ in a repo listing, with base and dtype. */
export function onnxFiles(paths: string[]): { path: string; base: string; dtype: ConcreteDtype | 'other' }[] {
  const out: { path: string; base: string; dtype: ConcreteDtype | 'other' }[] = [];
  for (const path of paths) {
    const m = /^onnx\/([^/]+)$/.exec(path);
    const parsed = m ? parseOnnxFileName(m[1]) : undefined;
    if (parsed) out.push({ path, ...parsed });
  }
  return out;
}

/** Dtypes the repo has ONNX weights for, in geul's preference order. */
export function availableDtypes(paths: string[]): ConcreteDtype[] {
  const present = new Set(onnxFiles(paths).map((f) => f.dtype));
  return AUTO_PREFERENCE.filter((d) => present.has(d));
}

/**
 * The dtype to use: an explicit one as is; `auto` → the model's `transformers.js_config.dtype` if the repo has it,
 * else fp32 when present (the transformers.js CPU default), else the first available in q8, fp16, int8, uint8, q4 …
 */
export function resolveDtype(paths: string[], requested: Dtype, modelConfig?: unknown): ConcreteDtype {
  if (requested !== 'auto') return requested;
  const available = availableDtypes(paths);
  const configured = (modelConfig as { 'transformers.js_config'?: { dtype?: unknown } } | undefined)?.['transformers.js_config']?.dtype;
  if (typeof configured === 'string' && (available as string[]).includes(configured)) return configured as ConcreteDtype;
  return available[0] ?? 'fp32';
}

/** External data files of an ONNX file in the listing: `<file>_data`, `<file>_data_1`, … */
export function externalDataFiles(onnxPath: string, paths: string[]): string[] {
  return paths.filter((p) => p === `${onnxPath}_data` || (p.startsWith(`${onnxPath}_data_`) && /^\d+$/.test(p.slice(onnxPath.length + 6))));
}

/**
 * ONNX files (plus external data) of one dtype that transformers.js loads. Skips exports it never loads:
 * `decoder_with_past_model*`, `decoder_model` when `decoder_model_merged` exists, and the decoder pair when a
 * decoder-only `model` exists without an `encoder_model`.
 */
export function selectOnnxFiles(paths: string[], dtype: ConcreteDtype): string[] {
  const mine = onnxFiles(paths).filter((f) => f.dtype === dtype);
  const bases = new Set(mine.map((f) => f.base));
  const keep = mine.filter((f) => {
    if (f.base === 'decoder_with_past_model') return false;
    if (f.base === 'decoder_model' && bases.has('decoder_model_merged')) return false;
    if ((f.base === 'decoder_model' || f.base === 'decoder_model_merged') && bases.has('model') && !bases.has('encoder_model')) return false;
    return true;
  });
  return keep.flatMap((f) => [f.path, ...externalDataFiles(f.path, paths)]).sort();
}

/** Support files present in the listing: SUPPORT_FILES plus any root-level `*.model` (sentencepiece). */
export function selectSupportFiles(paths: string[]): string[] {
  const present = new Set(paths);
  const extra = paths.filter((p) => !p.includes('/') && p.endsWith('.model') && !SUPPORT_FILES.includes(p));
  return [...SUPPORT_FILES.filter((f) => present.has(f)), ...extra.sort()];
}

/** Everything `geul models pull` fetches for `dtype` from a listing. */
export function selectPullFiles(paths: string[], dtype: ConcreteDtype): { support: string[]; onnx: string[] } {
  return { support: selectSupportFiles(paths), onnx: selectOnnxFiles(paths, dtype) };
}

/** Guesses for a hub without a listing API: support files and common ONNX bases (all fetched as optional). */
export function guessPullFiles(dtype: ConcreteDtype): { support: string[]; onnx: string[] } {
  const bases = ['model', 'encoder_model', 'decoder_model_merged'];
  return { support: [...SUPPORT_FILES, 'spiece.model', 'tokenizer.model'], onnx: bases.map((b) => onnxFilePath(b, dtype)) };
}
