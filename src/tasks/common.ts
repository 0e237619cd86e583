// Request pieces every task shares: the model field and one-or-many text inputs, with size limits and empty-text rules.
import type { TString } from 'typebox';
import { Type } from '../core/schema.js';

/** The longest single text accepted (characters); the server may lower it. */
export const MAX_TEXT_CHARS = 100_000;

export const ModelField = Type.Optional(Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'Hub model id (owner/name) or local model folder; the task default when omitted',
}));

/**
 * One input text. Each task states what it does with an empty text (`empty`) and whether it accepts one at all;
 * the schema enforces it, so the library, CLI and every HTTP face behave the same.
 */
export function textItem(empty: { allowed: boolean; says: string }): TString {
  return Type.String({ minLength: empty.allowed ? 0 : 1, maxLength: MAX_TEXT_CHARS, description: `Input text. ${empty.says}` });
}

/** `inputs`: one text or a batch of texts; the response mirrors it (one result or an array). */
export function textInputs(item: TString) {
  return Type.Union([item, Type.Array(item, { minItems: 1, maxItems: 4096 })], { description: 'One text, or an array of texts for a batch' });
}

export function isText(value: unknown): value is string {
  return typeof value === 'string';
}
