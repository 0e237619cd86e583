// A checkpoint's own tokenizer (its tokenizer.json, through transformers.js) for fine-tuning: the same ids inference
// gets, truncation to the model's position limit with a count of the rows it cut, and the files to copy with the model.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { configureTransformers, type hf } from '../../runtime/transformers.js';
import type { EncoderConfig } from './config.js';

/** Tokenizer files a Hugging Face repo may carry; the ones present are copied into the fine-tuned model folder. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'sentencepiece.bpe.model', 'added_tokens.json'] as const;

/**
 * The longest sequence the position table allows: `max_position_embeddings`, less RoBERTa's offset (positions
 * start at padding_idx + 1, so 514 positions hold 512 tokens).
 */
export function positionLimit(config: EncoderConfig): number {
  const roberta = config.modelType === 'roberta' || config.modelType === 'xlm-roberta';
  return roberta ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
}

export class EncoderTokenizer {
  private constructor(
    private readonly tokenizer: hf.PreTrainedTokenizer,
    /** Largest id the tokenizer can produce, plus one. */
    readonly size: number,
    /** The tokenizer files found in the folder, by name. */
    readonly files: ReadonlyMap<string, Buffer>,
  ) {}

  /** Loads `folder`'s tokenizer.json; TOKENIZER_VOCAB_MISMATCH when it makes ids the embeddings of `config` lack. */
  static async load(folder: string, config: EncoderConfig, model = folder): Promise<EncoderTokenizer> {
    if (!existsSync(join(folder, 'tokenizer.json'))) throw geulError('MODEL_FILE_MISSING', { model, file: 'tokenizer.json' });
    const transformers = configureTransformers();
    let tokenizer: hf.PreTrainedTokenizer;
    try {
      tokenizer = await transformers.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    } catch (err) {
      throw geulError('MODEL_INVALID', { model, detail: `tokenizer: ${(err as Error).message.split('\n')[0]}` }, err);
    }
    const size = Math.max(...tokenizer.get_vocab().values()) + 1;
    if (size > config.vocabSize) throw geulError('TOKENIZER_VOCAB_MISMATCH', { model, tokens: size - 1, rows: config.vocabSize });
    const files = new Map<string, Buffer>();
    for (const name of TOKENIZER_FILES) if (existsSync(join(folder, name))) files.set(name, readFileSync(join(folder, name)));
    return new EncoderTokenizer(tokenizer, size, files);
  }

  /**
   * Token ids with the special tokens, exactly as inference encodes (src/tasks/encoder.ts: the same tokenizer call,
   * truncating to `maxLength`); `truncated` says whether the text was longer. Most texts fit, so they are encoded once.
   */
  encode(text: string, maxLength: number): { ids: number[]; truncated: boolean } {
    const whole = this.ids(text);
    if (whole.length <= maxLength) return { ids: whole, truncated: false };
    return { ids: this.ids(text, maxLength), truncated: true };
  }

  private ids(text: string, maxLength?: number): number[] {
    const options = maxLength === undefined ? {} : { truncation: true, max_length: maxLength };
    const encoded = this.tokenizer(text, options) as unknown as { input_ids: { data: BigInt64Array } };
    return Array.from(encoded.input_ids.data, Number);
  }
}
