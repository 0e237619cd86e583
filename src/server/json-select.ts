// Parses only the top-level members a route knows from a JSON object body; the rest is checked but never built.
import { geulError } from '../core/errors.js';

/**
 * Why: a body just under the size limit can hold millions of values in fields the route ignores; building them costs
 * hundreds of MB of heap per request. Here every byte is still checked (syntax, nesting, prototype-poisoning keys, as
 * secure-json-parse does), but only the members named in `keep` are materialised, by JSON.parse on their text alone.
 */
export function parseSelected(text: string, keep: ReadonlySet<string>, maxDepth: number): Record<string, unknown> {
  const scanner = new Scanner(text, maxDepth);
  return scanner.topObject(keep);
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const HEX = /^[0-9a-fA-F]{4}$/;
// eslint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters
const STRING_RUN = /[^"\\\u0000-\u001f]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Scanner {
  private pos = 0;

  constructor(private readonly text: string, private readonly maxDepth: number) {}

  topObject(keep: ReadonlySet<string>): Record<string, unknown> {
    this.skipSpace();
    if (this.code() !== 0x7b) throw geulError('INVALID_INPUT', { detail: 'the body must be a JSON object' });
    const members: string[] = [];
    this.members(1, false, (key, start, end) => {
      if (keep.has(key)) members.push(this.text.slice(start, end));
    });
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail();
    // The kept members are valid JSON on their own; duplicate keys keep JSON.parse's last-one-wins.
    return JSON.parse(`{${members.join(',')}}`) as Record<string, unknown>;
  }

  private code(): number {
    return this.text.charCodeAt(this.pos);
  }

  private fail(): never {
    throw geulError('INVALID_INPUT', { detail: 'malformed JSON' });
  }

  private skipSpace(): void {
    while (WHITESPACE.has(this.code())) this.pos++;
  }

  private expect(code: number): void {
    if (this.code() !== code) this.fail();
    this.pos++;
  }

  /** An object's members (at `{`); calls `visit(key, memberStart, valueEnd)` for each. */
  private members(depth: number, underConstructor: boolean, visit?: (key: string, start: number, end: number) => void): void {
    if (depth > this.maxDepth) throw geulError('INVALID_INPUT', { detail: `JSON may nest at most ${this.maxDepth} levels deep` });
    this.expect(0x7b);
    this.skipSpace();
    if (this.code() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      const start = this.pos;
      const key = this.key();
      if (key === '__proto__' || (underConstructor && key === 'prototype')) {
        throw geulError('INVALID_INPUT', { detail: `the key "${key}" is not allowed` });
      }
      this.skipSpace();
      this.expect(0x3a);
      this.skipSpace();
      this.value(depth, key === 'constructor');
      visit?.(key, start, this.pos);
      this.skipSpace();
      if (this.code() === 0x2c) this.pos++;
      else return this.expect(0x7d);
    }
  }

  private key(): string {
    const start = this.pos;
    this.string();
    const raw = this.text.slice(start + 1, this.pos - 1);
    return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  private value(depth: number, underConstructor: boolean): void {
    const c = this.code();
    if (c === 0x7b) this.members(depth + 1, underConstructor);
    else if (c === 0x5b) this.elements(depth + 1);
    else if (c === 0x22) this.string();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(this.text);
      if (!m || m[0].length === 0) this.fail();
      this.pos += m[0].length;
    }
  }

  private elements(depth: number): void {
    if (depth > this.maxDepth) throw geulError('INVALID_INPUT', { detail: `JSON may nest at most ${this.maxDepth} levels deep` });
    this.expect(0x5b);
    this.skipSpace();
    if (this.code() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      this.value(depth, false);
      this.skipSpace();
      if (this.code() === 0x2c) this.pos++;
      else return this.expect(0x5d);
    }
  }

  private string(): void {
    this.expect(0x22);
    for (;;) {
      // Plain characters in one native regex step; then a quote, an escape, or a control character (invalid).
      STRING_RUN.lastIndex = this.pos;
      STRING_RUN.test(this.text);
      this.pos = STRING_RUN.lastIndex;
      const c = this.code();
      if (c === 0x22) {
        this.pos++;
        return;
      }
      if (c !== 0x5c) this.fail();
      const next = this.text.charCodeAt(this.pos + 1);
      if (next === 0x75) {
        if (!HEX.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail();
        this.pos += 6;
      } else if (ESCAPES.has(next)) this.pos += 2;
      else this.fail();
    }
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) this.fail();
    this.pos += word.length;
  }
}

/** The top-level field names a body schema allows (an object, or a union of objects); undefined when it is open-ended. */
export function knownBodyFields(schema: unknown): ReadonlySet<string> | undefined {
  const s = schema as { properties?: Record<string, unknown>; anyOf?: unknown[]; oneOf?: unknown[] } | undefined;
  if (!s || typeof s !== 'object') return undefined;
  if (s.properties) return new Set(Object.keys(s.properties));
  const members = s.anyOf ?? s.oneOf;
  if (!members) return undefined;
  const names = new Set<string>();
  for (const member of members) {
    const fields = knownBodyFields(member);
    if (!fields) return undefined;
    for (const name of fields) names.add(name);
  }
  return names;
}
