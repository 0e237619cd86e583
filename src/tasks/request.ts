// Validating task requests once (library, CLI, server alike) and the request schema as clients see it (JSON Schema).
import { Value } from 'typebox/value';
import { Type, parseLoose, parseWith, type TSchema } from '../core/schema.js';
import type { Task } from './types.js';

export interface PreparedRequest {
  items: unknown[];
  /** True when the caller sent one item (not a batch): the answer is then one result, not an array. */
  single: boolean;
  options: Record<string, unknown>;
}

/**
 * Validates a request and returns its items plus whether the caller sent one item (not a batch).
 * `convert` first turns strings into the schema's numbers and booleans (command-line flags arrive as strings).
 */
export function prepareRequest(task: Task, request: unknown, how: { convert?: boolean } = {}): PreparedRequest {
  const parse = how.convert ? parseLoose : parseWith;
  const { inputs, ...options } = parse(task.request, request, task.id) as Record<string, unknown>;
  const single = Value.Check(task.item, inputs);
  return { items: single ? [inputs] : (inputs as unknown[]), single, options };
}

const optionSchemas = new WeakMap<Task, TSchema>();

/** Validates a task's options without inputs (CLI modes such as `translate --languages`). */
export function prepareOptions(task: Task, options: Record<string, unknown>, how: { convert?: boolean } = {}): Record<string, unknown> {
  let schema = optionSchemas.get(task);
  if (!schema) optionSchemas.set(task, (schema = Type.Omit(task.request, ['inputs'])));
  return (how.convert ? parseLoose : parseWith)(schema, options, task.id) as Record<string, unknown>;
}

type JsonSchema = { [key: string]: unknown };

/**
 * A schema as plain JSON Schema for clients (OpenAPI, GET /v1/tasks, the web UI's forms): TypeBox's own markers
 * are dropped, and a field with a default is not required, since the server fills it in.
 */
export function clientSchema(schema: TSchema): JsonSchema {
  return withoutDefaultedRequired(JSON.parse(JSON.stringify(schema)) as JsonSchema);
}

function withoutDefaultedRequired(node: JsonSchema): JsonSchema {
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach((v) => { if (isObject(v)) withoutDefaultedRequired(v); });
    else if (isObject(value)) withoutDefaultedRequired(value);
  }
  const properties = node.properties;
  if (Array.isArray(node.required) && isObject(properties)) {
    const required = (node.required as string[]).filter((name) => !(isObject(properties[name]) && 'default' in properties[name]));
    if (required.length > 0) node.required = required;
    else delete node.required;
  }
  return node;
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
