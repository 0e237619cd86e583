// Request body parsers: strict UTF-8 JSON with a nesting cap, only known fields built, capped HTML forms; all linear in the body.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { knownBodyFields, parseSelected } from './json-select.js';

/** Deeper JSON would overflow the stack of the recursive schema walkers (validation, defaults, cloning). */
export const MAX_JSON_DEPTH = 64;
/** LibreTranslate forms carry a handful of fields; more is an attack, refused before anything is built. */
export const MAX_FORM_FIELDS = 1000;

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c;

/** The deepest nesting of objects and arrays in JSON text, stopping early once past `limit` (strings are skipped). */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

/** How many `&`-separated fields a form body has (empty pieces, as URLSearchParams skips them, are not counted). */
export function formFieldCount(body: string, limit = Infinity): number {
  let count = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('&', start);
    if (end < 0) end = body.length;
    if (end > start && ++count > limit) return count;
    start = end + 1;
  }
  return count;
}

const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses a form body; repeated fields (q=…&q=…) become arrays. Throws 413 past MAX_FORM_FIELDS, 400 on poisoning keys. */
export function parseForm(body: string): Record<string, string | string[]> {
  if (formFieldCount(body, MAX_FORM_FIELDS) > MAX_FORM_FIELDS) {
    throw geulError('PAYLOAD_TOO_LARGE', { detail: `a form body may have at most ${MAX_FORM_FIELDS} fields` });
  }
  const fields = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (POISON_KEYS.has(key)) throw geulError('INVALID_INPUT', { detail: `form field "${key}" is not allowed` });
    const values = fields.get(key);
    if (values) values.push(value);
    else fields.set(key, [value]);
  }
  return Object.fromEntries([...fields].map(([key, values]) => [key, values.length === 1 ? values[0] : values]));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const fieldsBySchema = new WeakMap<object, ReadonlySet<string> | null>();

/** The top-level fields the route's body schema names (its handler reads no others), or undefined for open bodies. */
function routeBodyFields(request: FastifyRequest): ReadonlySet<string> | undefined {
  const schema = request.routeOptions.schema?.body;
  if (!schema || typeof schema !== 'object') return undefined;
  let fields = fieldsBySchema.get(schema);
  if (fields === undefined) {
    fields = knownBodyFields(schema) ?? null;
    fieldsBySchema.set(schema, fields);
  }
  return fields ?? undefined;
}

/** JSON bodies: strict UTF-8 (invalid bytes → 400, not silent U+FFFD), a nesting cap, prototype-poisoning safe parsing. */
export function installBodyParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(geulError('INVALID_INPUT', { detail: 'the body is not valid UTF-8' }), undefined);
      return;
    }
    // Unknown fields are ignored (clients send extras), so they are checked (nesting included) but never built.
    const fields = routeBodyFields(request);
    if (fields) {
      let value: Record<string, unknown>;
      try {
        value = parseSelected(text, fields, MAX_JSON_DEPTH);
      } catch (err) {
        done(err as Error, undefined);
        return;
      }
      done(null, value);
      return;
    }
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(geulError('INVALID_INPUT', { detail: `JSON may nest at most ${MAX_JSON_DEPTH} levels deep` }), undefined);
      return;
    }
    void parseJson(request, text, (err, value) => done(err ? geulError('INVALID_INPUT', { detail: 'malformed JSON' }) : null, value));
  });
  // LibreTranslate clients may post HTML forms.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
