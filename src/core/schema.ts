// Schema helpers: one TypeBox schema is the source of validation, TypeScript types and OpenAPI.
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { geulError } from './errors.js';

export { Type };
export type { Static, TSchema };

/** Applies defaults, converts loose values (e.g. "8" from env/flags) and validates; throws INVALID_INPUT. */
export function parseWith<T extends TSchema>(schema: T, input: unknown, what = 'input'): Static<T> {
  const value = Value.Default(schema, Value.Clone(input));
  if (Value.Check(schema, value)) return value as Static<T>;
  const first = Value.Errors(schema, value)[0];
  const path = first ? (first.instancePath || '/') : '/';
  const message = first ? first.message : 'does not match the schema';
  throw geulError('INVALID_INPUT', { detail: `${what}${path === '/' ? '' : path.replaceAll('/', '.')}: ${message}` });
}

/** Like parseWith, but first converts strings to the schema's types (for env vars and CLI flags). */
export function parseLoose<T extends TSchema>(schema: T, input: unknown, what = 'input'): Static<T> {
  return parseWith(schema, Value.Convert(schema, Value.Clone(input)), what);
}
