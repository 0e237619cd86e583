// What GET /v1/jobs/types says about a training job type, turned into hyper-parameter fields (dotted names such as
// "run.epochs", grouped by section) and the params of POST /v1/jobs; file and model fields get pickers of their own.
import type { JsonSchema } from './tasks';

export interface JobTypeInfo {
  id: string;
  description: string;
  params_schema: JsonSchema;
  file_fields: string[];
  model_fields: string[];
  submit_via: string | null;
}

export interface ParamField {
  /** Dotted path in the params ("optim.lr"). */
  name: string;
  section: string;
  kind: 'enum' | 'integer' | 'number' | 'boolean' | 'string';
  schema: JsonSchema;
}

/** The job types this page trains (their run folder is a model the task pages can use). */
export const TRAINING_TYPES = ['train', 'finetune'];

function kindOf(schema: JsonSchema): ParamField['kind'] | undefined {
  if (schema.enum) return 'enum';
  if (schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean' || schema.type === 'string') return schema.type;
  return undefined; // lists and nested objects are not hyper-parameters a form edits
}

/** The scalar fields of each section (data, model, optim, run), except those with pickers of their own. */
export function paramFields(type: JobTypeInfo, picked: readonly string[]): ParamField[] {
  const out: ParamField[] = [];
  for (const [section, schema] of Object.entries(type.params_schema.properties ?? {})) {
    for (const [key, field] of Object.entries(schema.properties ?? {})) {
      const name = `${section}.${key}`;
      const kind = kindOf(field);
      if (kind && !picked.includes(name) && !type.file_fields.includes(name) && !type.model_fields.includes(name)) out.push({ name, section, kind, schema: field });
    }
  }
  return out;
}

/** The enum of a dotted field ("model.name": the train model table). */
export function enumAt(type: JobTypeInfo, name: string): unknown[] {
  const [section, key] = name.split('.');
  return type.params_schema.properties?.[section!]?.properties?.[key!]?.enum ?? [];
}

/** Sets a dotted path, creating its sections. */
function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** The params: the chosen values (file, model) plus each hyper-parameter typed in; empty ones keep the server default. */
export function buildParams(fields: readonly ParamField[], values: Record<string, string>, fixed: Record<string, string>): { params: Record<string, unknown> } | { error: string } {
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fixed)) setAt(params, name, value);
  for (const field of fields) {
    const raw = (values[field.name] ?? '').trim();
    if (raw === '') continue;
    if (field.kind === 'integer' || field.kind === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) return { error: `${field.name}: must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}` };
      setAt(params, field.name, n);
    } else if (field.kind === 'boolean') setAt(params, field.name, raw === 'true');
    else setAt(params, field.name, raw);
  }
  return { params };
}

/** The help line of a field: its description and what the server uses when it is left empty. */
export function helpOf(field: ParamField): string {
  const description = (field.schema.description ?? '').trim();
  const parts = [description && !/[.!?]$/.test(description) ? `${description}.` : description];
  if (field.schema.default !== undefined) parts.push(`Default: ${JSON.stringify(field.schema.default)}.`);
  else parts.push('Empty: the model\'s own default.');
  return parts.filter(Boolean).join(' ');
}
