// The tokenizer a masked-LM run encodes its corpus with: a tokenizer folder loaded by transformers.js, so the ids seen
// in pre-training are exactly those `geul fill-mask`, `geul finetune` and inference will produce.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { configureTransformers, type hf } from '../../runtime/transformers.js';
import { WORDPIECE_PREFIX } from './wordpiece-trainer.js';

/** The special ids packing and masking need, the vocabulary size, and which ids continue a word (`##`). */
export interface MlmTokenizer {
  /** Where the tokenizer files came from (a folder). */
  readonly source: string;
  /** One past the largest id the tokenizer can produce. */
  readonly vocabSize: number;
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly mask: number;
  /** Every special id (never masked, never drawn as a random replacement). */
  readonly special: ReadonlySet<number>;
  /** 1 for ids that continue the previous token's word (WordPiece `##` pieces); undefined when the model is not WordPiece. */
  readonly continuation?: Uint8Array;
  /** Token ids of `text` without special tokens. */
  encode(text: string): number[];
  /** The tokenizer files to copy into a checkpoint folder. */
  readonly files: Readonly<Record<string, string>>;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt'];

/** Loads the tokenizer files of `folder` through transformers.js. */
export async function loadMlmTokenizer(folder: string): Promise<MlmTokenizer> {
  const files: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) {
    const text = await readFile(join(folder, name), 'utf8').catch(() => undefined);
    if (text !== undefined) files[name] = text;
  }
  for (const required of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!(required in files)) throw geulError('MODEL_FILE_MISSING', { model: folder, file: required });
  }
  const transformers = configureTransformers();
  let tokenizer: hf.PreTrainedTokenizer;
  try {
    tokenizer = await transformers.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  } catch (err) {
    throw geulError('MODEL_INVALID', { model: folder, detail: `tokenizer: ${(err as Error).message.split('\n')[0]}` }, err);
  }
  const vocab = tokenizer.get_vocab() as Map<string, number>;
  // Older repos name their special tokens only in special_tokens_map.json.
  const config = { ...parseJson(files['special_tokens_map.json']), ...parseJson(files['tokenizer_config.json']) };
  const tokenOf = (key: string): string | undefined => {
    const value = config[key];
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
    return undefined;
  };
  // BERT names [CLS]/[SEP]; RoBERTa-style tokenizers frame sequences with their bos/eos tokens instead.
  const need = (what: string, ...keys: string[]): number => {
    for (const key of keys) {
      const id = vocab.get(tokenOf(key) ?? '');
      if (id !== undefined) return id;
    }
    throw geulError('MODEL_INVALID', { model: folder, detail: `the tokenizer has no ${what} token, which masked-LM training needs` });
  };
  const vocabSize = Math.max(...vocab.values()) + 1;
  const model = (JSON.parse(files['tokenizer.json']) as { model?: { type?: string; continuing_subword_prefix?: string } }).model;
  let continuation: Uint8Array | undefined;
  if (model?.type === 'WordPiece') {
    const prefix = model.continuing_subword_prefix ?? WORDPIECE_PREFIX;
    continuation = new Uint8Array(vocabSize);
    for (const [token, id] of vocab) if (token.startsWith(prefix) && token.length > prefix.length) continuation[id] = 1;
  }
  return {
    source: folder,
    vocabSize,
    cls: need('[CLS] / <s>', 'cls_token', 'bos_token'),
    sep: need('[SEP] / </s>', 'sep_token', 'eos_token'),
    pad: need('padding', 'pad_token'),
    mask: need('mask', 'mask_token'),
    special: new Set(tokenizer.all_special_ids.map(Number)),
    continuation,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }),
    files,
  };
}

/** A tokenizer from its files' text (a freshly trained vocabulary), loaded through a temporary folder. */
export async function mlmTokenizerFromFiles(files: Readonly<Record<string, string>>): Promise<MlmTokenizer> {
  const dir = await mkdtemp(join(tmpdir(), 'geul-tokenizer-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return { ...(await loadMlmTokenizer(dir)), source: 'trained vocabulary' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseJson(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
