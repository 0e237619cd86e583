// The home page: what geul is, a card per page, and which default models cannot load (with the command that fixes it).
import { ErrorBox } from '../components/error-box';
import { useGet, useTasks } from '../use-api';

interface Ready {
  ready: boolean;
  models: Record<string, string>;
  reasons?: Record<string, string>;
}

/** /ready answers 503 with the same body while a default model cannot load. */
const READY_ANSWERS = [503];

export function Home() {
  const tasks = useTasks();
  const ready = useGet<Ready>('/ready', READY_ANSWERS);
  const missing = Object.entries(ready.data?.models ?? {}).filter(([, state]) => state !== 'ok');
  const defaults = new Map((tasks.data?.data ?? []).map((t) => [t.id, t.default_model]));
  return (
    <>
      <header class="page-head">
        <h1>geul <span lang="ko">글</span></h1>
        <p>Local-first NLP: Hugging Face models, word vectors and training on your own machine.</p>
        <p>Every page below talks to this server over its public HTTP API (<a href="/docs">API reference</a>).</p>
      </header>
      {missing.length > 0 && (
        <section class="notice" role="status">
          <h2>Some default models cannot load</h2>
          <ul>
            {missing.map(([task, state]) => (
              <li>
                <strong>{task}</strong>: {state}
                {!state.includes('geul models pull') && <> Fetch it while online: <code>geul models pull {defaults.get(task) ?? '<model>'}</code></>}
              </li>
            ))}
          </ul>
        </section>
      )}
      {tasks.error !== undefined && <ErrorBox error={tasks.error} />}
      {tasks.loading && !tasks.data && <p class="loading" role="status">Loading…</p>}
      <h2>Task playgrounds</h2>
      <ul class="cards">
        {(tasks.data?.data ?? []).map((task) => (
          <li class="card">
            <a href={`/ui/tasks/${task.id}`}><h3>{task.id}</h3></a>
            <p>{task.description}</p>
            <p class="meta">{task.default_model}{task.streams ? ' · streams' : ''}</p>
          </li>
        ))}
      </ul>
      <h2>Word vectors</h2>
      <ul class="cards">
        <li class="card">
          <a href="/ui/words"><h3>Word vectors</h3></a>
          <p>Nearest neighbours, analogies (A : B = C : ?), the odd one out, and a map of words and their neighbourhoods.</p>
        </li>
      </ul>
      <h2>Learn &amp; train</h2>
      <ul class="cards">
        <li class="card">
          <a href="/ui/playground"><h3>Neural-network basics</h3></a>
          <p>A perceptron and an MLP learning XOR, circles, spirals and moons live: the decision boundary and the loss as they train.</p>
        </li>
        <li class="card">
          <a href="/ui/train"><h3>Train &amp; fine-tune</h3></a>
          <p>Train or fine-tune a text classifier on your data as a job, with live curves; the model joins the model pickers.</p>
        </li>
      </ul>
      <h2>Server</h2>
      <ul class="cards">
        <li class="card">
          <a href="/ui/models"><h3>Models</h3></a>
          <p>Models on disk with their size and precisions; pull one from the Hub with progress, delete one.</p>
        </li>
        <li class="card">
          <a href="/ui/keys"><h3>API keys</h3></a>
          <p>Create keys (the secret shown once), revoke them, and see each key's usage against its quota (admin).</p>
        </li>
      </ul>
    </>
  );
}
