// Language identification with eld (pure-JS n-gram detector, 60 languages): built-in, loads no model.
import { Type, type Static } from '../core/schema.js';
import { textInputs, textItem } from './common.js';
import { defineTask } from './types.js';

const Text = textItem({ allowed: true, says: 'An empty text (or one with no letters) gives an empty list: nothing to detect.' });
const Request = Type.Object({
  inputs: textInputs(Text),
  top_k: Type.Integer({ minimum: 1, maximum: 60, default: 3, description: 'Most candidate languages to return, best first' }),
});
const Candidate = Type.Object({
  language: Type.String({ description: 'ISO 639-1 code, e.g. "fr"' }),
  confidence: Type.Number({ minimum: 0, maximum: 100, description: 'How well the text fits the language, 0–100 (as LibreTranslate reports it)' }),
});
const Result = Type.Array(Candidate, { description: 'Candidate languages, best first; empty when nothing could be detected' });

export type DetectedLanguage = Static<typeof Candidate>;

interface Eld { detect(text: string): { language: string; getScores(): Record<string, number> } }
let detector: Promise<Eld> | undefined;

/** The large n-gram table (~9 MB) is read on first use, not at import: most commands never detect. */
function loadDetector(): Promise<Eld> {
  detector ??= import('eld/large').then((m) => m.eld as Eld);
  return detector;
}

/** Candidates for one text, best first: eld's n-gram scores (0–1) as 0–100, one decimal. */
export async function detectLanguages(text: string, topK = 3): Promise<DetectedLanguage[]> {
  const eld = await loadDetector();
  const found = eld.detect(text);
  if (found.language === '') return [];
  const scores = Object.entries(found.getScores()).sort((a, b) => b[1] - a[1]);
  // eld's own pick leads even where a score ties it; the rest follow by score.
  const ranked = [...scores.filter(([code]) => code === found.language), ...scores.filter(([code]) => code !== found.language)];
  if (ranked.length === 0) ranked.push([found.language, 0]);
  return ranked.slice(0, topK).map(([language, score]) => ({ language, confidence: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 10 }));
}

export const detectTask = defineTask({
  id: 'detect',
  command: 'detect',
  summary: 'Identify the language of texts (built-in eld n-gram detector, 60 languages; no model to download)',
  kind: null,
  defaultModel: 'eld',
  batches: false,
  request: Request,
  item: Text,
  result: Result,
  async run(items, options, ctx) {
    const out: DetectedLanguage[][] = [];
    for (const text of items) {
      out.push(await detectLanguages(text, options.top_k));
      ctx.onItemDone?.();
    }
    return out;
  },
  format: (_text, result) => (result.length === 0 ? '(unknown)' : result.map((c) => `${c.language}\t${c.confidence.toFixed(1)}`).join('\t')),
  cli: { args: '[texts...]' },
  examples: {
    cli: ['geul detect "Où est la gare ?"', 'geul detect --top-k 1 --file texts.txt --json'],
    http: [{ inputs: 'Où est la gare ?' }, { inputs: ['Where is the station?', '역이 어디예요?'], top_k: 1 }],
  },
});
