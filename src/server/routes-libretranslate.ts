// The LibreTranslate face: /translate (source "auto" detects first), /detect, /languages (GET and the POST some clients send).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import { MAX_ALTERNATIVES, type TranslationResult } from '../tasks/translate.js';
import type { DetectedLanguage } from '../tasks/detect.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { escapeText, isTranslatable, splitHtml } from './html-text.js';
import { clientGone } from './sse.js';

const { translate: translateTask, detect: detectTask } = TASKS;

const Texts = Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]);
const ApiKeys = {
  api_key: Type.Optional(Type.String({ description: 'API key (instead of Authorization: Bearer)' })),
  apiKey: Type.Optional(Type.String({ description: 'The same, as some clients spell it' })),
};
const TranslateRequest = Type.Object({
  q: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], { description: 'Text or texts to translate' }),
  source: Type.String({ description: 'Source language code, or "auto" to detect it first' }),
  target: Type.String({ description: 'Target language code' }),
  format: Type.Optional(Type.Enum(['text', 'html'], { description: '"html": only text nodes are translated; tags, attributes, comments, script and style are kept' })),
  alternatives: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ALTERNATIVES, description: `How many other translations to return as well, best first (at most ${MAX_ALTERNATIVES}; none for format "html", as LibreTranslate)` })),
  ...ApiKeys,
}, { description: 'LibreTranslate-compatible translate request (JSON or form body)' });
const Detected = Type.Object({ language: Type.String(), confidence: Type.Number({ description: '0–100' }) });
const TranslateResponse = Type.Object({
  translatedText: Type.Union([Type.String(), Type.Array(Type.String())]),
  detectedLanguage: Type.Optional(Type.Union([Detected, Type.Array(Detected)], { description: 'With source "auto": what was detected (one per text for a batch)' })),
  alternatives: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Array(Type.Array(Type.String()))], { description: 'With alternatives > 0: other translations, best first, each unlike translatedText (one list per text for a batch)' })),
});
const DetectRequest = Type.Object({ q: Texts, ...ApiKeys }, { description: 'LibreTranslate-compatible detect request' });
const DetectResponse = Type.Union([Type.Array(Detected), Type.Array(Type.Array(Detected))], { description: 'Candidates best first; one list per text for a batch' });
const LanguagesResponse = Type.Array(Type.Object({ code: Type.String(), name: Type.String(), targets: Type.Array(Type.String()) }));

/** The languages of a translation model (the default when none is named), from the translate task's `languages` mode. */
export async function translationLanguages(ctx: ServerContext, requested?: string): Promise<{ code: string; name: string }[]> {
  const model = ctx.inference.catalog.resolve(translateTask, requested);
  return (await ctx.inference.mode(translateTask, 'languages', { model })) as { code: string; name: string }[];
}

async function detectAll(ctx: ServerContext, texts: unknown[], reply: FastifyReply, topK: number): Promise<DetectedLanguage[][]> {
  const options = { top_k: topK, model: ctx.inference.catalog.resolve(detectTask) };
  return (await ctx.inference.run(detectTask, texts, options, clientGone(reply))) as DetectedLanguage[][];
}

/** What one `q` becomes: the texts to translate, and how to put their translations back (HTML keeps its markup). */
interface Plan { texts: string[]; render(translated: string[]): string; sample: string }

function planText(text: string): Plan {
  return { texts: [text], render: (t) => t[0], sample: text };
}

function planHtml(html: string): Plan {
  const pieces = splitHtml(html);
  const texts: string[] = [];
  const parts = pieces.map((piece) => {
    if (piece.kind === 'markup') return () => piece.value;
    if (!isTranslatable(piece.value)) return () => escapeText(piece.value);
    // Spaces around a text node are layout: kept as they are, only the words go to the model.
    const [, lead, core, trail] = /^(\s*)([\s\S]*?)(\s*)$/.exec(piece.value) as RegExpExecArray;
    const at = texts.push(core) - 1;
    return (translated: string[]) => `${lead}${escapeText(translated[at])}${trail}`;
  });
  return { texts, render: (t) => parts.map((part) => part(t)).join(''), sample: texts.join(' ') };
}

/** LibreTranslate's `alternatives`: a whole number (form bodies send it as text); below 0 counts as 0, as there. */
export function alternativesCount(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw geulError('INVALID_INPUT', { detail: 'alternatives: must be a whole number' });
  if (n > MAX_ALTERNATIVES) throw geulError('INVALID_INPUT', { detail: `alternatives: at most ${MAX_ALTERNATIVES} (got ${n})` });
  return Math.max(0, n);
}

async function translate(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const wanted = alternativesCount(raw.alternatives);
  if (typeof raw.target !== 'string') throw geulError('INVALID_INPUT', { detail: 'target: required' });
  if (typeof raw.source !== 'string') throw geulError('INVALID_INPUT', { detail: 'source: required' });
  const auto = raw.source === 'auto';
  const html = raw.format === 'html';
  // As in LibreTranslate, HTML gets no alternatives (its text nodes are translated apart), so no beams are spent on them.
  const { items, single, options } = await admitTask(ctx, request, translateTask, {
    inputs: raw.q, to: raw.target, ...(auto ? {} : { from: raw.source }), ...(wanted > 0 && !html ? { alternatives: wanted } : {}),
  });
  const plans = (items as string[]).map(html ? planHtml : planText);
  let sources: (string | undefined)[] = plans.map(() => options.from as string | undefined);
  let detected: DetectedLanguage[] | undefined;
  const model = options.model as string;
  if (auto) {
    detected = (await detectAll(ctx, plans.map((p) => p.sample), reply, 1)).map((candidates, i) => {
      if (candidates.length === 0) throw geulError('INVALID_INPUT', { detail: `source "auto": the language of ${single ? 'q' : `q[${i}]`} could not be detected` });
      return candidates[0];
    });
    const codes = ((await ctx.inference.mode(translateTask, 'languages', { model })) as { code: string }[]).map((l) => l.code);
    for (const d of detected) if (codes.length > 0 && !codes.includes(d.language)) throw geulError('UNKNOWN_LANGUAGE', { language: d.language, model: ctx.inference.catalog.publicName(model) });
    sources = detected.map((d) => d.language);
  }
  const translated: string[][] = plans.map((p) => new Array<string>(p.texts.length));
  const alternatives: string[][] = plans.map(() => []);
  // One translate call per source language: the task takes one source language per request.
  for (const source of new Set(sources)) {
    const at = plans.flatMap((plan, i) => (sources[i] === source ? plan.texts.map((_, j) => [i, j] as const) : []));
    if (at.length === 0) continue;
    const results = (await ctx.inference.run(translateTask, at.map(([i, j]) => plans[i].texts[j]), { ...options, from: source }, clientGone(reply))) as TranslationResult[];
    at.forEach(([i, j], k) => {
      translated[i][j] = results[k].text;
      // A text plan has one piece, so its piece's alternatives are the whole text's.
      if (!html) alternatives[i] = results[k].alternatives ?? [];
    });
  }
  const texts = plans.map((plan, i) => plan.render(translated[i]));
  return {
    translatedText: single ? texts[0] : texts,
    ...(detected ? { detectedLanguage: single ? detected[0] : detected } : {}),
    ...(wanted > 0 ? { alternatives: single ? alternatives[0] : alternatives } : {}),
  };
}

async function detect(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const { items, single } = await admitTask(ctx, request, detectTask, { inputs: raw.q });
  const found = await detectAll(ctx, items, reply, 3);
  return single ? found[0] : found;
}

async function languages(ctx: ServerContext) {
  const list = await translationLanguages(ctx);
  const codes = list.map((l) => l.code);
  return list.map((l) => ({ code: l.code, name: l.name, targets: codes }));
}

export function registerLibreTranslateRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/translate', {
    schema: { summary: 'LibreTranslate-compatible translation (source "auto" detects first)', tags: ['libretranslate'], body: TranslateRequest, response: { 200: TranslateResponse, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => translate(ctx, request, reply));
  app.post('/detect', {
    schema: { summary: 'LibreTranslate-compatible language detection (confidence 0–100)', tags: ['libretranslate'], body: DetectRequest, response: { 200: DetectResponse, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => detect(ctx, request, reply));
  const languagesSchema = { summary: 'LibreTranslate-compatible language list of the default translation model', tags: ['libretranslate'], response: { 200: LanguagesResponse, ...errorResponses } };
  app.get('/languages', { schema: languagesSchema, preHandler: ctx.requireScope('tasks') }, () => languages(ctx));
  // libretranslatepy asks with a POST (form body carrying api_key).
  app.post('/languages', { schema: { ...languagesSchema, body: Type.Object({ ...ApiKeys }) }, preHandler: ctx.requireScope('tasks') }, () => languages(ctx));
}
