// Turns a task's request schema into commander options, and parsed flags back into a request object.
import { Option, type Command } from 'commander';

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: PropertySchema;
  minimum?: number;
  maximum?: number;
}

export function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

export function camel(name: string): string {
  return name.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds one option per request property (except those the caller handles itself). */
export function addSchemaOptions(command: Command, schema: { properties?: Record<string, PropertySchema> }, skip: Set<string>): string[] {
  const added: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (skip.has(name)) continue;
    const flag = kebab(name);
    const description = [prop.description ?? name, prop.enum ? `(${prop.enum.join(' | ')})` : '', prop.default !== undefined ? `[default: ${JSON.stringify(prop.default)}]` : '']
      .filter(Boolean)
      .join(' ');
    if (prop.type === 'boolean') {
      command.addOption(new Option(prop.default === true ? `--no-${flag}` : `--${flag}`, description));
    } else if (prop.type === 'array') {
      command.addOption(new Option(`--${flag} <value>`, `${description} (repeatable)`).argParser(collect));
    } else {
      const option = new Option(`--${flag} <${prop.type === 'string' || prop.enum ? 'value' : 'n'}>`, description);
      if (prop.enum) option.choices(prop.enum.map(String));
      command.addOption(option);
    }
    added.push(name);
  }
  return added;
}

/** Collects the values of generated options from commander's parsed flags (strings are converted by the schema). */
export function requestOptions(flags: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = flags[camel(name)];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
