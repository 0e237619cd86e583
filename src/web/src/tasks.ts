// What GET /v1/tasks says about a task, turned into form fields, request bodies, and the equivalent curl and geul commands.

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export interface TaskInfo {
  id: string;
  description: string;
  default_model: string;
  batches: boolean;
  streams: boolean;
  request_schema: JsonSchema;
  response_schema: JsonSchema;
  cli: { command: string; files: { field: string; flag: string }[] };
  examples: { cli: string[]; http: Record<string, unknown>[] };
}

/** How a request property is edited: texts and lists one per line, pairs as two aligned columns. */
export type FieldKind = 'texts' | 'pairs' | 'lines' | 'boolean' | 'enum' | 'integer' | 'number' | 'string';

export interface Field {
  name: string;
  kind: FieldKind;
  schema: JsonSchema;
  required: boolean;
  label: string;
}

/** The form's state: what the user typed, as strings (the URL holds exactly this). Pairs use `<name>` and `<name>.b`. */
export type FormState = Record<string, string>;

function itemOf(schema: JsonSchema): JsonSchema {
  return schema.anyOf?.[0] ?? schema;
}

function kindOf(name: string, schema: JsonSchema): FieldKind {
  if (name === 'inputs') {
    const item = itemOf(schema);
    return item.type === 'array' && item.minItems === 2 && item.maxItems === 2 ? 'pairs' : 'texts';
  }
  if (schema.enum) return 'enum';
  if (schema.type === 'array') return 'lines';
  if (schema.type === 'boolean' || schema.type === 'integer' || schema.type === 'number') return schema.type;
  return 'string';
}

const LABELS: Record<string, string> = { inputs: 'Input', top_k: 'Top k', top_p: 'Top p', max_new_tokens: 'Max new tokens', from: 'From', to: 'To' };

export function labelOf(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The task's form fields in schema order, `inputs` first. */
export function fieldsOf(task: TaskInfo): Field[] {
  const props = task.request_schema.properties ?? {};
  const required = new Set(task.request_schema.required ?? []);
  const names = Object.keys(props).sort((a, b) => (a === 'inputs' ? -1 : b === 'inputs' ? 1 : 0));
  return names.map((name) => ({ name, kind: kindOf(name, props[name]!), schema: props[name]!, required: required.has(name), label: labelOf(name) }));
}

const lines = (text: string | undefined): string[] => (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);

/** The request body the form describes, or a message naming the field that is not valid yet. */
export function buildRequest(task: TaskInfo, state: FormState): { body: Record<string, unknown> } | { error: string } {
  const body: Record<string, unknown> = {};
  for (const field of fieldsOf(task)) {
    const raw = state[field.name] ?? '';
    if (field.kind === 'texts') {
      const texts = lines(raw);
      if (texts.length === 0) {
        if (field.required) return { error: 'Type at least one input text.' };
        continue;
      }
      body[field.name] = texts.length === 1 ? texts[0] : texts;
    } else if (field.kind === 'pairs') {
      const [a, b] = [lines(raw), lines(state[`${field.name}.b`])];
      if (a.length === 0 || a.length !== b.length) return { error: 'Give as many texts in column B as in column A (one pair per line).' };
      const pairs = a.map((text, i) => [text, b[i]!]);
      body[field.name] = pairs.length === 1 ? pairs[0] : pairs;
    } else if (field.kind === 'lines') {
      const items = lines(raw);
      if (items.length === 0) {
        if (field.required) return { error: `${field.label}: give at least one line.` };
        continue;
      }
      body[field.name] = items;
    } else if (raw.trim() !== '') {
      if (field.kind === 'boolean') {
        const value = raw === 'true';
        if (value !== field.schema.default) body[field.name] = value;
      } else if (field.kind === 'integer' || field.kind === 'number') {
        const value = Number(raw);
        if (!Number.isFinite(value) || (field.kind === 'integer' && !Number.isInteger(value))) return { error: `${field.label} must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}.` };
        body[field.name] = value;
      } else {
        body[field.name] = raw.trim();
      }
    } else if (field.required) {
      return { error: `${field.label} is required.` };
    }
  }
  return { body };
}

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(origin: string, task: TaskInfo, body: Record<string, unknown>, withKey: boolean): string {
  const parts = [`curl -s ${origin}/v1/${task.id}`, `-H 'content-type: application/json'`];
  // The key itself never appears: the command reads it from the environment.
  if (withKey) parts.push(`-H "authorization: Bearer $GEUL_API_KEY"`);
  if (body.stream) parts.push('-N');
  parts.push(`-d ${shellQuote(JSON.stringify(body))}`);
  return parts.join(' \\\n  ');
}

function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

/** The `geul` command line for the same request, following the CLI's generated flags (snake_case → --kebab-case). */
export function cliCommand(task: TaskInfo, body: Record<string, unknown>): string {
  const words = ['geul', task.cli.command];
  const files = new Map(task.cli.files.map((f) => [f.field, f.flag]));
  const props = task.request_schema.properties ?? {};
  for (const [name, value] of Object.entries(body)) {
    if (name === 'inputs') continue;
    if (name === 'stream') {
      if (value) words.push('--stream');
      continue;
    }
    const file = files.get(name);
    if (file) {
      words.push(file, `${name}.txt`);
      continue;
    }
    if (typeof value === 'boolean') {
      words.push(props[name]?.default === true ? `--no-${kebab(name)}` : `--${kebab(name)}`);
    } else if (Array.isArray(value)) {
      for (const v of value) words.push(`--${kebab(name)}`, shellQuote(String(v)));
    } else {
      words.push(`--${kebab(name)}`, shellQuote(String(value)));
    }
  }
  const inputs = body.inputs;
  const texts = Array.isArray(inputs) ? inputs.flat() : inputs === undefined ? [] : [inputs];
  for (const text of texts) words.push(shellQuote(String(text)));
  return words.join(' ');
}

/** Form state from an example body (the "try an example" links). */
export function stateFromExample(task: TaskInfo, example: Record<string, unknown>): FormState {
  const state: FormState = {};
  for (const field of fieldsOf(task)) {
    const value = example[field.name];
    if (value === undefined) continue;
    if (field.kind === 'pairs') {
      const list = value as unknown[];
      const pairs = (Array.isArray(list[0]) ? list : [list]) as string[][];
      state[field.name] = pairs.map((p) => p[0]).join('\n');
      state[`${field.name}.b`] = pairs.map((p) => p[1]).join('\n');
    } else if (Array.isArray(value)) {
      state[field.name] = value.join('\n');
    } else {
      state[field.name] = String(value);
    }
  }
  return state;
}
