// A named pretrained tokenizer (BPE/WordPiece tokenizer.json, local folder or Hub id) as a from-scratch model's vocabulary.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { ensureModelFiles, type HubConfig } from '../../core/hub.js';
import { configureTransformers, type hf } from '../../runtime/transformers.js';

/** What a run needs from its vocabulary: its size, encoding, the files the exported folder carries, vocab.json. */
export interface TextVocab {
  readonly size: number;
  encode(text: string, maxLength: number): number[];
  tokenizerFiles(maxLength: number): Record<string, string>;
  toJSON(): Record<string, unknown>;
}

const FILES = ['tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['special_tokens_map.json', 'config.json'];

export class PretrainedVocab implements TextVocab {
  private constructor(readonly source: string, private readonly tokenizer: hf.PreTrainedTokenizer, private readonly files: Record<string, string>, readonly size: number) {}

  /** Loads the tokenizer files of `source` (a local folder or a Hub id, cache first) through transformers.js. */
  static async load(source: string, hub: HubConfig): Promise<PretrainedVocab> {
    const dir = await ensureModelFiles(source, hub, { required: FILES, optional: OPTIONAL });
    const hf = configureTransformers();
    let tokenizer: hf.PreTrainedTokenizer;
    try {
      tokenizer = await hf.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    } catch (err) {
      throw geulError('MODEL_INVALID', { model: source, detail: `tokenizer: ${(err as Error).message.split('\n')[0]}` }, err);
    }
    const files: Record<string, string> = {};
    for (const name of [...FILES, 'special_tokens_map.json']) {
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      if (text !== undefined) files[name] = text;
    }
    const size = Math.max(...tokenizer.get_vocab().values()) + 1;
    return new PretrainedVocab(source, tokenizer, files, size);
  }

  /** Token ids with the tokenizer's special tokens, cut to maxLength, exactly as the classify task will encode. */
  encode(text: string, maxLength: number): number[] {
    const encoded = this.tokenizer(text, { truncation: true, max_length: maxLength }) as unknown as { input_ids: { data: BigInt64Array } };
    return Array.from(encoded.input_ids.data, Number);
  }

  /** The tokenizer's own files; tokenizer_config.json's model_max_length becomes the run's maximum length. */
  tokenizerFiles(maxLength: number): Record<string, string> {
    const config = JSON.parse(this.files['tokenizer_config.json']) as Record<string, unknown>;
    return { ...this.files, 'tokenizer_config.json': JSON.stringify({ ...config, model_max_length: maxLength }, null, 2) };
  }

  toJSON(): Record<string, unknown> {
    return { tokenizer: this.source };
  }
}
