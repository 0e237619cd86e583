// The Train & fine-tune page: a dataset (uploaded, or one the server allows), the job type and its model, the
// hyper-parameters generated from the type's params schema (GET /v1/jobs/types) with their defaults, then the job
// live (JobMonitor) and the list of past jobs.
import { useEffect, useState } from 'preact/hooks';
import { postForm, postJson } from '../api';
import { ErrorBox } from '../components/error-box';
import { JobMonitor, type JobInfo } from '../components/job-monitor';
import { TRAINING_TYPES, buildParams, enumAt, helpOf, paramFields, type JobTypeInfo, type ParamField } from '../train-form';
import { useGet } from '../use-api';

interface Dataset { name: string; filename: string; bytes: number | null }
interface Uploaded { id: string; filename: string; bytes: number }
interface Model { id: string; tasks: string[] }

const ENCODER_TASKS = ['fill-mask', 'embeddings', 'classify'];

/** Which data a picker chooses: the training file (required) or a validation file (optional: else a held-out share). */
interface DataRole { id: string; legend: string; required: boolean }

const TRAINING_DATA: DataRole = { id: 'train', legend: '1. Data', required: true };
const VALIDATION_DATA: DataRole = { id: 'valid', legend: 'Validation data (optional)', required: false };

function DataPicker({ role, value, onChange }: { role: DataRole; value: string; onChange(value: string, label: string): void }) {
  const datasets = useGet<{ data: Dataset[] }>('/v1/datasets');
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // A new key empties the file input when the choice is cleared (a file input's value cannot be set).
  const [inputKey, setInputKey] = useState(0);
  const upload = async (file: File) => {
    setUploading(true);
    setError(null);
    try {
      const form = new FormData();
      form.append('purpose', 'data');
      form.append('file', file, file.name);
      const uploaded = await postForm<Uploaded>('/v1/files', form);
      onChange(uploaded.id, `${uploaded.filename} (${uploaded.bytes} bytes, ${uploaded.id})`);
    } catch (err) {
      setError(err);
    }
    setUploading(false);
  };
  const list = datasets.data?.data ?? [];
  const none = list.length === 0 ? 'none allowed (the admin lists them in server.datasets)' : '—';
  return (
    <fieldset class="train-step">
      <legend>{role.legend}</legend>
      {!role.required && <small>Without one, a stratified share of the training data is held out (data.validFraction). With one, all the training data trains and the held-out metrics come from this file.</small>}
      <label for={`${role.id}-upload`}>Upload a JSONL, CSV or TSV file (a text and a label column)</label>
      <input key={inputKey} id={`${role.id}-upload`} type="file" accept=".jsonl,.csv,.tsv,.txt,.gz" disabled={uploading}
        onChange={(e) => { const f = (e.currentTarget as HTMLInputElement).files?.[0]; if (f) void upload(f); }} />
      <label for={`${role.id}-dataset`}>or a dataset on the server</label>
      <select id={`${role.id}-dataset`} value={value.startsWith('dataset:') ? value : ''} disabled={list.length === 0}
        onChange={(e) => { const v = (e.currentTarget as HTMLSelectElement).value; onChange(v, v.slice('dataset:'.length)); }}>
        <option value="">{role.required ? none : list.length === 0 ? none : 'none: hold out a share of the training data'}</option>
        {list.map((d) => <option value={`dataset:${d.name}`} disabled={d.bytes === null}>{d.name} ({d.filename}{d.bytes === null ? ', missing' : ''})</option>)}
      </select>
      {!role.required && value !== '' && <button type="button" class="secondary" onClick={() => { onChange('', ''); setInputKey((k) => k + 1); }}>No validation file</button>}
      {uploading && <p class="loading">Uploading…</p>}
      {error !== null && <ErrorBox error={error} />}
      {datasets.error !== undefined && <ErrorBox error={datasets.error} />}
    </fieldset>
  );
}

function ParamControl({ field, value, onChange }: { field: ParamField; value: string; onChange(v: string): void }) {
  const id = `param-${field.name.replace('.', '-')}`;
  const common = { id, 'aria-describedby': `${id}-help` };
  const def = field.schema.default;
  let control;
  if (field.kind === 'enum' || field.kind === 'boolean') {
    const options = field.kind === 'boolean' ? [true, false] : field.schema.enum!;
    control = (
      <select {...common} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{def !== undefined ? `${String(def)} (default)` : 'default'}</option>
        {options.filter((o) => o !== def).map((o) => <option value={String(o)}>{String(o)}</option>)}
      </select>
    );
  } else {
    const placeholder = def !== undefined ? `default: ${String(def)}` : 'model default';
    const input = (e: Event) => onChange((e.currentTarget as HTMLInputElement).value);
    control = field.kind === 'string'
      ? <input {...common} type="text" value={value} placeholder={placeholder} onInput={input} />
      : <input {...common} type="number" step={field.kind === 'integer' ? 1 : 'any'} value={value} min={field.schema.minimum} max={field.schema.maximum} placeholder={placeholder} onInput={input} />;
  }
  return (
    <div class="field">
      <label for={id}>{field.name}</label>
      {control}
      <small id={`${id}-help`}>{helpOf(field)}</small>
    </div>
  );
}

function Setup({ types, onStarted }: { types: JobTypeInfo[]; onStarted(job: JobInfo): void }) {
  const [data, setData] = useState({ value: '', label: '' });
  const [valid, setValid] = useState({ value: '', label: '' });
  const [typeId, setTypeId] = useState('train');
  const [model, setModel] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const models = useGet<{ data: Model[] }>(typeId === 'finetune' ? '/v1/models' : null);
  const type = types.find((t) => t.id === typeId)!;
  const modelField = typeId === 'train' ? 'model.name' : 'model.base';
  const fields = paramFields(type, [modelField]);
  // A fine-tuning base is an encoder: the catalog's models that embed, fill masks or classify.
  const names = typeId === 'train' ? enumAt(type, 'model.name').map(String)
    : (models.data?.data ?? []).filter((m) => m.tasks.some((t) => ENCODER_TASKS.includes(t))).map((m) => m.id);
  const start = async (e: Event) => {
    e.preventDefault();
    if (!data.value) return setProblem(new Error('Choose the training data first: upload a file or pick a server dataset.'));
    if (!model) return setProblem(new Error(typeId === 'train' ? 'Choose a model architecture.' : 'Choose the model to fine-tune.'));
    if (valid.value !== '' && valid.value === data.value) return setProblem(new Error('The validation data is the training data: choose another file, or none to hold out a share.'));
    const chosen: Record<string, string> = { 'data.source': data.value, [modelField]: model };
    if (valid.value) chosen['data.valid'] = valid.value;
    const built = buildParams(fields, values, chosen);
    if ('error' in built) return setProblem(new Error(built.error));
    setBusy(true);
    setProblem(null);
    try {
      onStarted(await postJson<JobInfo>('/v1/jobs', { type: typeId, params: built.params }));
    } catch (err) {
      setProblem(err);
    }
    setBusy(false);
  };
  const sections = [...new Set(fields.map((f) => f.section))];
  return (
    <form class="train-setup" onSubmit={start}>
      <DataPicker role={TRAINING_DATA} value={data.value} onChange={(value, label) => setData({ value, label })} />
      {data.label && <p class="meta" data-testid="train-data">Data: <code>{data.label}</code></p>}
      <DataPicker role={VALIDATION_DATA} value={valid.value} onChange={(value, label) => setValid({ value, label })} />
      {valid.label && <p class="meta" data-testid="valid-data">Validation: <code>{valid.label}</code></p>}
      <fieldset class="train-step">
        <legend>2. Model</legend>
        <label for="train-type">Job</label>
        <select id="train-type" value={typeId} onChange={(e) => { setTypeId((e.currentTarget as HTMLSelectElement).value); setModel(''); setValues({}); }}>
          {types.filter((t) => TRAINING_TYPES.includes(t.id)).map((t) => <option value={t.id}>{t.id === 'train' ? 'train from scratch' : 'fine-tune a pretrained encoder'}</option>)}
        </select>
        <small>{type.description}</small>
        <label for="train-model">{typeId === 'train' ? 'Architecture' : 'Base model (from this server\'s catalog)'}</label>
        <select id="train-model" value={model} onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">—</option>
          {names.map((n) => <option value={n}>{n}</option>)}
        </select>
        {models.error !== undefined && <ErrorBox error={models.error} />}
      </fieldset>
      <fieldset class="train-step">
        <legend>3. Hyper-parameters</legend>
        <p class="meta">Leave a field empty to keep its default (shown greyed in the field).</p>
        {sections.map((s) => (
          <details class="options" open={s === 'run'}>
            <summary>{s}</summary>
            <div class="option-grid">{fields.filter((f) => f.section === s).map((f) => (
              <ParamControl field={f} value={values[f.name] ?? ''} onChange={(v) => setValues({ ...values, [f.name]: v })} />
            ))}</div>
          </details>
        ))}
      </fieldset>
      {problem !== null && <ErrorBox error={problem} />}
      <button type="submit" disabled={busy}>Start training</button>
    </form>
  );
}

function PastJobs({ tick, onOpen, current }: { tick: number; onOpen(id: string): void; current: string | null }) {
  const jobs = useGet<{ data: JobInfo[] }>('/v1/jobs?limit=50');
  useEffect(() => { if (tick > 0) jobs.reload(); }, [tick]);
  const rows = (jobs.data?.data ?? []).filter((j) => TRAINING_TYPES.includes(j.type));
  return (
    <section class="past-jobs" aria-label="Past jobs">
      <h2>Training jobs</h2>
      {jobs.error !== undefined && <ErrorBox error={jobs.error} />}
      {jobs.data && rows.length === 0 && <p>No training jobs yet.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="results">
            <thead><tr><th>job</th><th>type</th><th>state</th><th>created</th><th /></tr></thead>
            <tbody>{rows.map((j) => (
              <tr data-job={j.id}>
                <td><code>{j.id}</code></td><td>{j.type}</td><td class={`state state-${j.state}`}>{j.state}</td>
                <td>{new Date(j.created_at * 1000).toLocaleString()}</td>
                <td>{j.id === current ? 'shown above' : <button type="button" class="secondary" onClick={() => onOpen(j.id)}>Watch</button>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function TrainPage() {
  const types = useGet<{ data: JobTypeInfo[] }>('/v1/jobs/types');
  const [current, setCurrent] = useState<string | null>(() => new URLSearchParams(location.search).get('job'));
  const [tick, setTick] = useState(0);
  const open = (id: string) => {
    setCurrent(id);
    history.replaceState(history.state, '', `${location.pathname}?job=${encodeURIComponent(id)}`);
    setTick((t) => t + 1);
  };
  return (
    <section class="train-page">
      <h1>Train &amp; fine-tune</h1>
      <p>Train a text classifier from scratch, or fine-tune a pretrained encoder, as a durable job on this server: it keeps
        running if you close the page (come back to it below). The finished model appears in the task pages' model pickers.</p>
      {types.loading && <p class="loading">Loading the job types…</p>}
      {types.error !== undefined && <ErrorBox error={types.error} />}
      {types.data && <Setup types={types.data.data} onStarted={(job) => open(job.id)} />}
      {current && <JobMonitor key={current} id={current} onFinished={() => setTick((t) => t + 1)} />}
      <PastJobs tick={tick} onOpen={open} current={current} />
    </section>
  );
}
