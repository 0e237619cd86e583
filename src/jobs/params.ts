// Validates a job's params against its type's schema: defaults applied, and a 400 that names the field at fault
// ("params.run.batchSize: …", "params.colour: unknown field").
import { Value } from 'typebox/value';
import { geulError } from '../core/errors.js';
import type { JobType } from './job-type.js';

export function parseJobParams(type: JobType, input: unknown): Record<string, unknown> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw geulError('INVALID_INPUT', { detail: 'params: must be an object' });
  const value = Value.Default(type.params, Value.Clone(input)) as Record<string, unknown>;
  if (Value.Check(type.params, value)) {
    type.validate?.(value);
    return value;
  }
  const errors = [...Value.Errors(type.params, value)];
  const dotted = (pointer: string) => ['params', ...pointer.split('/').filter(Boolean)].join('.');
  const extra = errors.find((e) => (e.params as { additionalProperties?: string[] }).additionalProperties?.length);
  if (extra) {
    const [key] = (extra.params as { additionalProperties: string[] }).additionalProperties;
    throw geulError('INVALID_INPUT', { detail: `${dotted(`${extra.instancePath}/${key}`)}: unknown field` });
  }
  // A missing field is named itself ("params.input: is required"), not its parent object.
  const missing = errors.find((e) => (e.params as { requiredProperties?: string[] }).requiredProperties?.length);
  if (missing) {
    const [key] = (missing.params as { requiredProperties: string[] }).requiredProperties;
    throw geulError('INVALID_INPUT', { detail: `${dotted(`${missing.instancePath}/${key}`)}: is required` });
  }
  // The deepest error names the field best ("params.run.batchSize", not "params.run").
  const first = errors.sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  throw geulError('INVALID_INPUT', { detail: `${dotted(first?.instancePath ?? '')}: ${first?.message ?? 'does not match the schema'}` });
}

/** The value at a dotted path of an object. */
export function valueAt(object: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), object);
}

/** Sets the value at a dotted path whose parents exist. */
export function setValueAt(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((v, k) => v[k] as Record<string, unknown>, object);
  parent[keys.at(-1)!] = value;
}

/** True when the params field at a dotted path is a list (an upload into it appends: word2vec's corpus, pretrain's sources). */
export function isListField(type: JobType, path: string): boolean {
  let schema: { type?: unknown; properties?: Record<string, unknown> } | undefined = type.params;
  for (const key of path.split('.')) schema = schema?.properties?.[key] as typeof schema;
  return schema?.type === 'array';
}
