// The form of one task, generated from its request JSON Schema: one labelled control per property.
import { useState } from 'preact/hooks';
import { linesOfFile } from '../file-lines';
import type { Field, FormState, TaskInfo } from '../tasks';
import { fieldsOf } from '../tasks';
import { LanguageInput } from './language-input';

interface Props {
  task: TaskInfo;
  state: FormState;
  onChange(name: string, value: string): void;
  /** Translation languages (code and name), for the from/to pickers. */
  languages?: { code: string; name: string }[];
  /** Models of GET /v1/models that serve this task (the server's and the caller's trained ones), for the model field. */
  models?: string[];
}

function placeholderOf(field: Field): string {
  if (field.schema.default !== undefined) return `default: ${String(field.schema.default)}`;
  return field.name === 'model' ? 'the server default' : '';
}

function describedBy(field: Field): string {
  return `help-${field.name}`;
}

function FileLoader({ onText, label }: { onText(text: string): void; label: string }) {
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <label class="file">
      {label}
      <input type="file" accept=".txt,.csv,.tsv,.jsonl,text/plain" onChange={async (e) => {
        const file = (e.currentTarget as HTMLInputElement).files?.[0];
        if (!file) return;
        try {
          onText(linesOfFile(file.name, await file.text()));
          setProblem(null);
        } catch (error) {
          setProblem((error as Error).message);
        }
      }} />
      {problem && <span class="error" role="alert">{problem}</span>}
    </label>
  );
}

function Control({ field, state, onChange, languages, models }: { field: Field } & Omit<Props, 'task'>) {
  const id = `field-${field.name}`;
  const value = state[field.name] ?? '';
  const common = { id, name: field.name, 'aria-describedby': describedBy(field) };
  switch (field.kind) {
    case 'texts':
    case 'lines':
      return (
        <>
          <textarea {...common} rows={field.kind === 'texts' ? 4 : 6} value={value} required={field.required}
            placeholder={field.kind === 'texts' ? 'One text per line' : 'One per line'}
            onInput={(e) => onChange(field.name, (e.currentTarget as HTMLTextAreaElement).value)} />
          {field.kind === 'lines' && <FileLoader label="Load from a file" onText={(text) => onChange(field.name, text)} />}
        </>
      );
    case 'pairs':
      return (
        <div class="pairs">
          <textarea {...common} aria-label="Texts A, one per line" rows={4} value={value} placeholder="Text A, one per line"
            onInput={(e) => onChange(field.name, (e.currentTarget as HTMLTextAreaElement).value)} />
          <textarea id={`${id}-b`} aria-label="Texts B, one per line" rows={4} value={state[`${field.name}.b`] ?? ''} placeholder="Text B, one per line"
            onInput={(e) => onChange(`${field.name}.b`, (e.currentTarget as HTMLTextAreaElement).value)} />
        </div>
      );
    case 'boolean': {
      const checked = value === '' ? field.schema.default === true : value === 'true';
      return <input {...common} type="checkbox" checked={checked} onChange={(e) => onChange(field.name, String((e.currentTarget as HTMLInputElement).checked))} />;
    }
    case 'enum':
      return (
        <select {...common} value={value} onChange={(e) => onChange(field.name, (e.currentTarget as HTMLSelectElement).value)}>
          <option value="">{field.schema.default !== undefined ? `${String(field.schema.default)} (default)` : '—'}</option>
          {field.schema.enum!.filter((v) => v !== field.schema.default).map((v) => <option value={String(v)}>{String(v)}</option>)}
        </select>
      );
    case 'integer':
    case 'number':
      return (
        <input {...common} type="number" inputMode={field.kind === 'integer' ? 'numeric' : 'decimal'} value={value} placeholder={placeholderOf(field)}
          step={field.kind === 'integer' ? 1 : 'any'} min={field.schema.minimum ?? field.schema.exclusiveMinimum} max={field.schema.maximum}
          onInput={(e) => onChange(field.name, (e.currentTarget as HTMLInputElement).value)} />
      );
    default:
      if ((field.name === 'from' || field.name === 'to') && languages) {
        return <LanguageInput {...common} value={value} languages={languages} onChange={(v) => onChange(field.name, v)} />;
      }
      if (field.name === 'model' && models && models.length > 0) {
        return (
          <>
            <input {...common} type="text" list="model-options" value={value} placeholder={placeholderOf(field)} onInput={(e) => onChange(field.name, (e.currentTarget as HTMLInputElement).value)} />
            <datalist id="model-options">{models.map((m) => <option value={m} />)}</datalist>
          </>
        );
      }
      return <input {...common} type="text" value={value} placeholder={placeholderOf(field)} onInput={(e) => onChange(field.name, (e.currentTarget as HTMLInputElement).value)} />;
  }
}

export function SchemaForm(props: Props) {
  const fields = fieldsOf(props.task);
  const main = fields.filter((f) => f.kind === 'texts' || f.kind === 'pairs' || f.kind === 'lines' || f.name === 'from' || f.name === 'to');
  const options = fields.filter((f) => !main.includes(f));
  const row = (field: Field) => (
    <div class={`field field-${field.kind}`} key={field.name}>
      <label for={`field-${field.name}`}>{field.label}{field.required && <span aria-hidden="true"> *</span>}</label>
      <Control field={field} state={props.state} onChange={props.onChange} languages={props.languages} models={props.models} />
      {field.schema.description && <small id={describedBy(field)}>{field.schema.description}</small>}
    </div>
  );
  return (
    <>
      {main.map(row)}
      {options.length > 0 && (
        <details class="options" open={options.some((f) => (props.state[f.name] ?? '') !== '')}>
          <summary>Options</summary>
          <div class="option-grid">{options.map(row)}</div>
        </details>
      )}
    </>
  );
}
