// Request pieces every task shares: the model field and one-or-many text inputs, with size limits.
import { Type } from '../core/schema.js';

/** The longest single text accepted (characters); the server may lower it. */
export const MAX_TEXT_CHARS = 100_000;

export const ModelField = Type.Optional(Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'Hub model id (owner/name) or local model folder; the task default when omitted',
}));

export const Text = Type.String({ maxLength: MAX_TEXT_CHARS, description: 'Input text' });

/** `inputs`: one text or a batch of texts; the response mirrors it (one result or an array). */
export const TextInputs = Type.Union([Text, Type.Array(Text, { minItems: 1, maxItems: 4096 })], {
  description: 'One text, or an array of texts for a batch',
});

export function isText(value: unknown): value is string {
  return typeof value === 'string';
}
