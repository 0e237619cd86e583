// Models: what the server offers with size, dtypes and cached state; pull a hub model with per-file progress; delete.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteJson, postStream } from '../api';
import { Confirm } from '../components/confirm';
import { ErrorBox } from '../components/error-box';
import { useGet } from '../use-api';

interface Model { id: string; tasks: string[]; default_for: string[]; source: 'folder' | 'hub'; cached: boolean; size: number; dtypes: string[] }
interface FileProgress { file: string; received: number; total: number | null }
interface PullDone { type: 'done'; id: string; dtype: string; files: { path: string; downloaded: boolean }[]; downloaded_bytes: number; total_size: number }

const DTYPES = ['auto', 'fp32', 'q8', 'fp16', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

/** 1234567 → "1.2 MB" (powers of 1000, as the Hub and `geul models list` show sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

function Pull({ id, setId, onPulled, offered }: { id: string; setId(id: string): void; onPulled(): void; offered: string[] | null }) {
  const [dtype, setDtype] = useState('auto');
  const [files, setFiles] = useState<FileProgress[]>([]);
  const [state, setState] = useState<{ busy: boolean; error?: unknown; done?: PullDone; stopped?: boolean }>({ busy: false });
  const controller = useRef<AbortController | null>(null);
  // Leaving the page closes the stream, which stops the download on the server.
  useEffect(() => () => controller.current?.abort(), []);

  const pull = async () => {
    const abort = new AbortController();
    controller.current = abort;
    setFiles([]);
    setState({ busy: true });
    try {
      for await (const event of postStream('/v1/models/pull', { id: id.trim(), dtype }, abort.signal)) {
        if (event.type === 'progress') {
          const p = event as unknown as FileProgress;
          setFiles((list) => [...list.filter((f) => f.file !== p.file), p].sort((a, b) => a.file.localeCompare(b.file)));
        } else if (event.type === 'done') {
          setState({ busy: false, done: event as unknown as PullDone });
          onPulled();
          return;
        }
      }
      setState({ busy: false, error: new ApiError(0, 'NETWORK', 'The pull stream ended before the server said it was done') });
    } catch (error) {
      setState(abort.signal.aborted ? { busy: false, stopped: true } : { busy: false, error });
    } finally {
      controller.current = null;
    }
  };

  return (
    <form class="word-tool pull" onSubmit={(e) => { e.preventDefault(); void pull(); }}>
      <h2>Pull from the Hub</h2>
      <p class="meta">Downloads the config, tokenizer and the ONNX weights of one precision into the server's cache (admin keys only).</p>
      <div class="row">
        <label for="pull-id">Hub id</label>
        <input id="pull-id" type="text" placeholder="Xenova/all-MiniLM-L6-v2" value={id} required onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
        <label for="pull-dtype">Precision</label>
        <select id="pull-dtype" value={dtype} onChange={(e) => setDtype((e.currentTarget as HTMLSelectElement).value)}>
          {DTYPES.map((d) => <option value={d}>{d}</option>)}
        </select>
        <button type="submit" disabled={state.busy}>Pull</button>
        {state.busy && <button type="button" class="secondary" onClick={() => controller.current?.abort()}>Stop</button>}
      </div>
      {files.length > 0 && (
        <ul class="downloads" aria-label="Downloads">
          {files.map((f) => (
            <li>
              <label for={`dl-${f.file}`}>{f.file}</label>
              <progress id={`dl-${f.file}`} max={f.total ?? undefined} value={f.total === null ? undefined : f.received} />
              <span class="num">{formatBytes(f.received)}{f.total !== null ? ` / ${formatBytes(f.total)}` : ''}</span>
            </li>
          ))}
        </ul>
      )}
      {state.busy && files.length === 0 && <p class="loading" role="status">Asking the Hub…</p>}
      {state.done && (
        <p role="status" class="pulled">
          Pulled <strong>{state.done.id}</strong> ({state.done.dtype}): {state.done.files.length} files, {formatBytes(state.done.total_size)}
          {' '}({formatBytes(state.done.downloaded_bytes)} downloaded, {state.done.files.filter((f) => !f.downloaded).length} already cached).
        </p>
      )}
      {state.done && offered && !offered.includes(state.done.id) && (
        <p class="notice">It is in the cache, but this server does not offer it: it runs with <code>--no-cached-hub-models</code>, or it loads another precision than the one pulled (its <code>--dtype</code>). Pull that precision, start it with <code>--allow-hub-models</code>, or make the model a task default with <code>--default</code>, to use it.</p>
      )}
      {state.stopped && <p role="status">Stopped. Files that finished stay in the cache; pulling again fetches only the rest.</p>}
      {state.error !== undefined && <ErrorBox error={state.error} />}
    </form>
  );
}

function DeleteButton({ model, onDeleted }: { model: Model; onDeleted(): void }) {
  const [asking, setAsking] = useState(false);
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const remove = async () => {
    setState({ busy: true });
    try {
      await deleteJson(`/v1/models/${model.id.split('/').map(encodeURIComponent).join('/')}`);
      setAsking(false);
      setState({ busy: false });
      onDeleted();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  if (!asking) return <button type="button" class="secondary" onClick={() => setAsking(true)}>Delete</button>;
  return (
    <Confirm question={`Delete ${model.id} (${formatBytes(model.size)}) from the cache?`} yes="Yes, delete" busy={state.busy} error={state.error}
      onYes={() => void remove()} onCancel={() => setAsking(false)} />
  );
}

export function ModelsPage() {
  const models = useGet<{ data: Model[] }>('/v1/models');
  const all = models.data?.data ?? [];
  const onDisk = all.filter((m) => m.cached);
  const missing = all.filter((m) => !m.cached);
  const [pullId, setPullId] = useState('');
  return (
    <>
      <header class="page-head">
        <h1>Models</h1>
        <p>The models this server offers: the <code>--models</code> folders and the Hub models in its cache, with their size and weight precisions.</p>
      </header>
      {models.error !== undefined && <ErrorBox error={models.error} />}
      {models.loading && !models.data && <p class="loading" role="status">Loading…</p>}
      {models.data && onDisk.length === 0 && <p class="empty">No model is on disk yet: pull one below, or run <code>geul models pull &lt;id&gt;</code>.</p>}
      {onDisk.length > 0 && (
        <div class="table-wrap">
          <table class="results models">
            <caption>On disk</caption>
            <thead><tr><th scope="col">Model</th><th scope="col">Source</th><th scope="col">Size</th><th scope="col">Precisions</th><th scope="col">Tasks</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {onDisk.map((m) => (
                <tr data-model={m.id}>
                  <th scope="row">{m.id}</th>
                  <td>{m.source === 'folder' ? 'folder' : 'Hub cache'}</td>
                  <td class="num">{formatBytes(m.size)}</td>
                  <td>{m.dtypes.join(', ')}</td>
                  <td>{m.tasks.join(', ')}{m.default_for.length > 0 && <small> (default for {m.default_for.join(', ')})</small>}</td>
                  <td>{m.source === 'hub' ? <DeleteButton model={m} onDeleted={models.reload} /> : <small>kept: a --models folder</small>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {missing.length > 0 && (
        <section class="notice">
          <h2>Offered but not on disk</h2>
          <p>These load from the Hub on first use, which fails while the server is offline. Pull them now (or run <code>geul models pull</code> on the server):</p>
          <ul>
            {missing.map((m) => (
              <li>
                <code>{m.id}</code> <small>({m.default_for.length > 0 ? `default for ${m.default_for.join(', ')}` : m.tasks.join(', ')})</small>
                {' '}<button type="button" class="link" aria-label={`Pull ${m.id}`} onClick={() => { setPullId(m.id); document.getElementById('pull-id')?.focus(); }}>pull</button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <Pull id={pullId} setId={setPullId} onPulled={models.reload} offered={models.loading || !models.data ? null : all.map((m) => m.id)} />
    </>
  );
}
