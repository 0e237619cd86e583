// API keys (admin): create one (its secret shown once, with a copy button), list them, revoke, usage against quota.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentKey, deleteJson, getJson, postJson } from '../api';
import { Confirm } from '../components/confirm';
import { ErrorBox } from '../components/error-box';
import { useGet } from '../use-api';

interface Key {
  id: string; name: string; scopes: string[];
  rate: { count: number; period_s: number } | null;
  quota: { amount: number; unit: 'chars' | 'tokens' } | null;
  created_at: number; revoked_at: number | null; last_used_at: number | null;
}
interface Usage { used: number; remaining: number | null; quota: Key['quota'] }

const SCOPES = [
  { id: 'tasks', hint: 'run the task endpoints' },
  { id: 'jobs', hint: 'submit and read jobs' },
  { id: 'admin', hint: 'manage keys, models and metrics' },
];

const when = (s: number | null) => (s === null ? '—' : new Date(s * 1000).toLocaleString());
const period = (s: number) => (s === 1 ? 's' : s === 60 ? 'min' : s === 3600 ? 'hour' : s === 86400 ? 'day' : `${s} s`);

/** Why the list cannot be shown, in words, when the answer is about rights rather than a failure. */
function NoAccess({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.code === 'AUTH_DISABLED') {
    return (
      <section class="notice" role="status">
        <h2>API keys are off on this server</h2>
        <p>Anyone who can reach it may use it (auth is off, or automatic on a loopback address). To hand out keys, start it with <code>geul serve --auth required</code>.</p>
      </section>
    );
  }
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    return (
      <section class="notice" role="status">
        <h2>{error.status === 401 ? 'Sign in with an admin key' : 'This key is not an admin key'}</h2>
        <p>Managing keys needs a key with the <code>admin</code> scope: sign in with one (top right). The first one comes from <code>geul keys create --scopes admin</code> on the server.</p>
      </section>
    );
  }
  return <ErrorBox error={error} />;
}

function Secret({ secret, name }: { secret: string; name: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <div class="secret" role="status">
      <p><strong>Key “{name}” created.</strong> Copy its secret now: it is shown only this once (the server keeps only a hash).</p>
      <div class="row">
        <label class="sr-only" for="new-secret">Secret</label>
        <input id="new-secret" type="text" readOnly value={secret} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button type="button" onClick={() => void copy()}>Copy</button>
      </div>
      {copied === 'yes' && <small>Copied.</small>}
      {copied === 'no' && <small>The browser refused the clipboard: select the text and copy it by hand.</small>}
    </div>
  );
}

function CreateKey({ onCreated }: { onCreated(): void }) {
  const [form, setForm] = useState({ name: '', scopes: ['tasks'], rate: '', quota: '' });
  const [state, setState] = useState<{ busy: boolean; error?: unknown; created?: { key: string; name: string } }>({ busy: false });
  const create = async () => {
    setState({ busy: true });
    try {
      const body = { name: form.name.trim(), scopes: form.scopes, ...(form.rate.trim() && { rate: form.rate.trim() }), ...(form.quota.trim() && { quota: form.quota.trim() }) };
      const created = await postJson<Key & { key: string }>('/v1/keys', body);
      setState({ busy: false, created: { key: created.key, name: created.name } });
      setForm({ name: '', scopes: ['tasks'], rate: '', quota: '' });
      onCreated();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const text = (field: 'name' | 'rate' | 'quota') => (e: Event) => setForm({ ...form, [field]: (e.currentTarget as HTMLInputElement).value });
  const toggle = (scope: string) => setForm({ ...form, scopes: form.scopes.includes(scope) ? form.scopes.filter((s) => s !== scope) : [...form.scopes, scope] });
  return (
    <form class="word-tool create-key" onSubmit={(e) => { e.preventDefault(); void create(); }}>
      <h2>Create a key</h2>
      <label for="key-name">Name</label>
      <input id="key-name" type="text" required maxLength={64} value={form.name} onInput={text('name')} />
      <fieldset>
        <legend>Scopes</legend>
        {SCOPES.map((s) => (
          <label class="check"><input type="checkbox" name="scope" value={s.id} checked={form.scopes.includes(s.id)} onChange={() => toggle(s.id)} /> {s.id} <small>{s.hint}</small></label>
        ))}
      </fieldset>
      <label for="key-rate">Rate limit <small>(optional, e.g. 60/min; periods s, min, hour, day)</small></label>
      <input id="key-rate" type="text" placeholder="60/min" value={form.rate} onInput={text('rate')} />
      <label for="key-quota">Daily quota <small>(optional, e.g. 1000000chars/day or 50000tokens/day)</small></label>
      <input id="key-quota" type="text" placeholder="1000000chars/day" value={form.quota} onInput={text('quota')} />
      <div class="actions"><button type="submit" disabled={state.busy || form.scopes.length === 0}>Create</button></div>
      {state.error !== undefined && <ErrorBox error={state.error} />}
      {state.created && <Secret secret={state.created.key} name={state.created.name} />}
    </form>
  );
}

function UsageCell({ k }: { k: Key }) {
  const [usage, setUsage] = useState<{ data?: Usage; error?: boolean }>({});
  useEffect(() => {
    const controller = new AbortController();
    getJson<Usage>(`/v1/keys/${encodeURIComponent(k.id)}/usage`, controller.signal).then(
      (data) => setUsage({ data }),
      () => { if (!controller.signal.aborted) setUsage({ error: true }); },
    );
    return () => controller.abort();
  }, [k.id, k.last_used_at]);
  if (usage.error) return <small>unavailable</small>;
  if (!usage.data) return <small>…</small>;
  const { used, quota } = usage.data;
  if (!quota) return <span>{used.toLocaleString()} today <small>(no quota)</small></span>;
  return (
    <span class="usage">
      <meter min={0} max={quota.amount} value={Math.min(used, quota.amount)} aria-label={`Usage of ${k.name}`} />
      {' '}{used.toLocaleString()} / {quota.amount.toLocaleString()} {quota.unit} today
    </span>
  );
}

function Revoke({ k, onRevoked }: { k: Key; onRevoked(): void }) {
  const [asking, setAsking] = useState(false);
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const revoke = async () => {
    setState({ busy: true });
    try {
      await deleteJson(`/v1/keys/${encodeURIComponent(k.id)}`);
      setState({ busy: false });
      setAsking(false);
      onRevoked();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  if (!asking) return <button type="button" class="secondary" onClick={() => setAsking(true)}>Revoke</button>;
  return (
    <Confirm question={`Revoke “${k.name}”? Requests with it fail at once, on every server sharing the key store.`} yes="Yes, revoke" busy={state.busy} error={state.error}
      onYes={() => void revoke()} onCancel={() => setAsking(false)} />
  );
}

export function KeysPage() {
  const keys = useGet<{ data: Key[] }>('/v1/keys');
  const list = keys.data?.data ?? [];
  return (
    <>
      <header class="page-head">
        <h1>API keys</h1>
        <p>Who may use this server: create keys with scopes, a rate limit and a daily quota; revoke them; see today's usage.</p>
      </header>
      {keys.loading && !keys.data && <p class="loading" role="status">Loading…</p>}
      {keys.error !== undefined && <NoAccess error={keys.error} />}
      {keys.data && (
        <>
          <CreateKey onCreated={keys.reload} />
          <div class="table-wrap">
            <table class="results keys">
              <caption>Keys</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Rate</th><th scope="col">Usage</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
              <tbody>
                {list.map((k) => (
                  <tr data-key={k.name} class={k.revoked_at !== null ? 'revoked' : undefined}>
                    <th scope="row">{k.name}{currentKey()?.startsWith(`geul_${k.id}_`) && <small> (signed in)</small>} <small class="id">{k.id}</small></th>
                    <td>{k.scopes.join(', ')}</td>
                    <td>{k.rate ? `${k.rate.count}/${period(k.rate.period_s)}` : '—'}</td>
                    <td><UsageCell k={k} /></td>
                    <td>{when(k.created_at)}</td>
                    <td>{when(k.last_used_at)}</td>
                    <td>{k.revoked_at !== null ? <span>revoked {when(k.revoked_at)}</span> : <Revoke k={k} onRevoked={keys.reload} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.length === 0 && <p class="empty">No keys yet.</p>}
        </>
      )}
    </>
  );
}
