// Many-to-many translation with seq2seq models (M2M100 and others transformers.js runs), languages validated.
import { Type, type Static } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import { hf } from '../runtime/transformers.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, textInputs, textItem } from './common.js';
import { AbortCriteria } from './sampling.js';
import { beamSearchHypotheses } from './beam-search.js';
import { languageName } from './languages.js';
import { defineTask } from './types.js';

/** Each alternative costs a beam: the decoder runs alternatives + 1 hypotheses per step. */
export const MAX_ALTERNATIVES = 5;

const Text = textItem({ allowed: true, says: 'An empty text translates to an empty text (the model is not run).' });
const Request = Type.Object({
  model: ModelField,
  inputs: textInputs(Text),
  from: Type.Optional(Type.String({ maxLength: 16, description: 'Source language code, e.g. "en" (multilingual models)' })),
  to: Type.Optional(Type.String({ maxLength: 16, description: 'Target language code, e.g. "ko" (required by multilingual models)' })),
  max_new_tokens: Type.Integer({ minimum: 1, maximum: 1024, default: 256, description: 'Longest translation in tokens' }),
  num_beams: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: '1 = greedy decoding; more = beam search over that many hypotheses' }),
  length_penalty: Type.Number({ minimum: -5, maximum: 5, default: 1, description: 'Beam search: exponent on length when scoring finished translations (>1 favours longer ones)' }),
  alternatives: Type.Integer({
    minimum: 0, maximum: MAX_ALTERNATIVES, default: 0,
    description: `Also return up to this many other translations, best first (from beam search, which then runs with at least alternatives + 1 beams; at most ${MAX_ALTERNATIVES})`,
  }),
});
const Result = Type.Object({
  text: Type.String({ description: 'The translation' }),
  alternatives: Type.Optional(Type.Array(Type.String(), { description: 'Only when asked for: other translations, best first, each different from `text` and from each other' })),
});
export type TranslationResult = Static<typeof Result>;

type TranslationTokenizer = hf.PreTrainedTokenizer & {
  language_codes?: string[];
  _build_translation_inputs?: (text: string, tokenizerOptions: object, generateKwargs: Record<string, unknown>) => Record<string, hf.Tensor>;
};

export interface Language { code: string; name: string }

/** The languages a model translates between; empty for single-direction models (e.g. Marian en→de). */
export function modelLanguages(loaded: LoadedModel): Language[] {
  const codes = (loaded.tokenizer as TranslationTokenizer).language_codes ?? [];
  return codes.map((code) => ({ code, name: languageName(code) }));
}

function checkLanguage(loaded: LoadedModel, code: string | undefined, codes: string[]): void {
  if (code !== undefined && !codes.includes(code)) throw geulError('UNKNOWN_LANGUAGE', { language: code, model: loaded.id });
}

/** The n-best list as texts: the first is the translation, then up to `wanted` others, each different from all before it. */
export function distinctTranslations(decoded: string[], wanted: number): TranslationResult {
  const [text = '', ...rest] = decoded;
  const seen = new Set([text, '']);
  const alternatives: string[] = [];
  for (const candidate of rest) {
    if (alternatives.length === wanted) break;
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    alternatives.push(candidate);
  }
  return { text, alternatives };
}

type TranslateOptions = Omit<Static<typeof Request>, 'inputs' | 'alternatives'> & { alternatives?: number };

export async function translateTexts(loaded: LoadedModel, texts: string[], options: TranslateOptions, signal?: AbortSignal, onItemDone?: () => void): Promise<TranslationResult[]> {
  const tokenizer = loaded.tokenizer as TranslationTokenizer;
  const codes = tokenizer.language_codes ?? [];
  const multilingual = codes.length > 0 && typeof tokenizer._build_translation_inputs === 'function';
  if (multilingual) {
    if (!options.to) throw geulError('INVALID_INPUT', { detail: `"to" (target language) is required for ${loaded.id}; see its languages with \`geul translate --languages\`` });
    checkLanguage(loaded, options.from, codes);
    checkLanguage(loaded, options.to, codes);
  }
  // The decoder starts with two tokens (start + language); it cannot run past its position table.
  const maxNew = Math.min(options.max_new_tokens, Number(loaded.config.max_position_embeddings ?? 1024) - 2);
  const wanted = options.alternatives ?? 0;
  // Alternatives come from the beam's other finished hypotheses, so there must be more beams than wanted answers.
  const numBeams = wanted > 0 ? Math.max(options.num_beams, wanted + 1) : options.num_beams;
  const decode = (ids: number[]) => tokenizer.decode(ids, { skip_special_tokens: true }).trim();
  const results: TranslationResult[] = [];
  for (const text of texts) {
    if (text.trim().length === 0) {
      results.push(wanted > 0 ? { text: '', alternatives: [] } : { text: '' });
      onItemDone?.();
      continue;
    }
    const kwargs: Record<string, unknown> = { src_lang: options.from, tgt_lang: options.to };
    const inputs = multilingual
      ? tokenizer._build_translation_inputs!(text, { padding: true, truncation: true, max_length: loaded.maxLength }, kwargs)
      : (tokenizer(text, { padding: true, truncation: true, max_length: loaded.maxLength }) as unknown as Record<string, hf.Tensor>);
    const forcedBos = kwargs.forced_bos_token_id as number | undefined;
    if (numBeams > 1) {
      const hypotheses = await beamSearchHypotheses(loaded, inputs, {
        numBeams,
        maxNewTokens: maxNew,
        lengthPenalty: options.length_penalty,
        forcedBosTokenId: forcedBos,
        // Every finished beam: two token sequences can decode to one text, and duplicates are dropped.
        numReturnSequences: wanted > 0 ? numBeams : 1,
        signal,
      });
      const best = distinctTranslations(hypotheses.map((h) => decode(h.tokens)), wanted);
      results.push(wanted > 0 ? best : { text: best.text });
      onItemDone?.();
      continue;
    }
    const output = (await loaded.model.generate({
      ...inputs,
      ...(forcedBos !== undefined ? { forced_bos_token_id: forcedBos } : {}),
      max_new_tokens: maxNew,
      do_sample: false,
      stopping_criteria: signal ? [new AbortCriteria(signal)] : [],
    } as never)) as hf.Tensor;
    const ids = Array.from(output.data as BigInt64Array, Number);
    results.push({ text: decode(ids) });
    onItemDone?.();
  }
  return results;
}

export const translateTask = defineTask({
  id: 'translate',
  command: 'translate',
  summary: 'Translate texts between languages with a seq2seq model (M2M100: 100 languages)',
  kind: 'seq2seq-lm',
  defaultModel: 'Xenova/m2m100_418M',
  batches: false,
  request: Request,
  item: Text,
  result: Result,
  async run(items, options, ctx) {
    return translateTexts(await ctx.load(options.model), items, options, ctx.signal, ctx.onItemDone);
  },
  format: (_text, result) => [result.text, ...(result.alternatives ?? []).map((alt) => `  or: ${alt}`)].join('\n'),
  cli: {
    args: '[texts...]',
    modes: [{
      flag: 'languages',
      description: "list the model's languages and exit",
      async run(_texts, options, ctx) {
        const languages = modelLanguages(await ctx.load(options.model));
        return { value: languages, text: languages.map((l) => `${l.code}\t${l.name}`).join('\n') };
      },
    }],
  },
  examples: {
    cli: ['geul translate --from en --to ko "Where is the station?"', 'geul translate --from en --to fr --num-beams 4 "Good morning"', 'geul translate --from en --to de --alternatives 3 "See you tomorrow"', 'geul translate --from ko --to en --file notes.txt --json', 'geul translate --languages'],
    http: [{ inputs: 'Where is the station?', from: 'en', to: 'ko' }, { inputs: ['Good morning', 'Thank you'], from: 'en', to: 'fr', num_beams: 4 }, { inputs: 'See you tomorrow', from: 'en', to: 'de', alternatives: 3 }],
  },
});
