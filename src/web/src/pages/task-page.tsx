// One task's playground, generated from GET /v1/tasks: the form, a run (streamed where the task streams), the answer,
// and the same request as curl and geul commands. The form lives in the URL, so a result can be shared as a link.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiError, currentKey, postJson, postStream } from '../api';
import { ErrorBox } from '../components/error-box';
import { ResultView } from '../components/results';
import { SchemaForm } from '../components/schema-form';
import { buildRequest, cliCommand, curlCommand, stateFromExample, type FormState, type TaskInfo } from '../tasks';
import { useGet, useTasks } from '../use-api';

function stateFromUrl(): FormState {
  return Object.fromEntries(new URLSearchParams(location.search));
}

function writeUrl(state: FormState): void {
  const params = new URLSearchParams(Object.entries(state).filter(([, v]) => v !== ''));
  const query = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}`);
}

function Commands({ task, body }: { task: TaskInfo; body: Record<string, unknown> }) {
  return (
    <section class="commands" aria-label="The same request from a terminal">
      <h3>The same from a terminal</h3>
      <label>curl<pre><code data-testid="curl">{curlCommand(location.origin, task, body, currentKey() !== null)}</code></pre></label>
      <label>geul<pre><code data-testid="cli">{cliCommand(task, body)}</code></pre></label>
    </section>
  );
}

interface Run {
  body: Record<string, unknown>;
  result?: unknown;
  streamed?: string;
  error?: unknown;
  running: boolean;
  stopped?: boolean;
}

function Playground({ task }: { task: TaskInfo }) {
  const [state, setState] = useState<FormState>(stateFromUrl);
  const [run, setRun] = useState<Run | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  // Each translation model has its own languages: ask for the chosen one's (none chosen: the server default's).
  const chosenModel = (state.model ?? '').trim();
  const languages = useGet<{ languages: { code: string; name: string }[] }>(
    task.id === 'translate' ? `/v1/languages${chosenModel ? `?model=${encodeURIComponent(chosenModel)}` : ''}` : null,
  );
  // The model picker offers what this server serves for the task, models that the caller's training jobs made included.
  const models = useGet<{ data: { id: string; tasks: string[] }[] }>('/v1/models');
  useEffect(() => () => controller.current?.abort(), []);

  const change = (name: string, value: string) => {
    const next = { ...state, [name]: value };
    setState(next);
    writeUrl(next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const built = buildRequest(task, state);
    if ('error' in built) return setProblem(built.error);
    setProblem(null);
    const single = !Array.isArray(built.body.inputs) || task.id === 'similarity';
    const body = task.streams && single ? { ...built.body, stream: true } : built.body;
    controller.current?.abort();
    const ac = new AbortController();
    controller.current = ac;
    setRun({ body, running: true, streamed: body.stream ? '' : undefined });
    try {
      if (body.stream) {
        let text = '';
        let final: Record<string, unknown> | undefined;
        for await (const event of postStream(`/v1/${task.id}`, body, ac.signal)) {
          if (event.done) final = event;
          else if (typeof event.text === 'string') {
            text += event.text;
            setRun((r) => (r ? { ...r, streamed: text } : r));
          }
        }
        setRun({ body, running: false, streamed: text, result: final });
      } else {
        const result = await postJson(`/v1/${task.id}`, body, ac.signal);
        setRun({ body, running: false, result });
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') setRun((r) => (r ? { ...r, running: false, stopped: true } : r));
      else setRun({ body, running: false, error });
    }
  };
  const stop = () => controller.current?.abort();
  const swap = () => {
    const next = { ...state, from: state.to ?? '', to: state.from ?? '' };
    setState(next);
    writeUrl(next);
  };

  return (
    <>
      <header class="page-head">
        <h1>{task.id}</h1>
        <p>{task.description}</p>
        <p class="meta">Model: <code>{task.default_model}</code> (the server default; set <em>Model</em> under Options to use another)</p>
      </header>
      <form class="task-form" onSubmit={submit} aria-label={`${task.id} request`}>
        <SchemaForm task={task} state={state} onChange={change} languages={languages.data?.languages} models={models.data?.data.filter((m) => m.tasks.includes(task.id)).map((m) => m.id)} />
        {languages.error !== undefined && <ErrorBox error={languages.error} />}
        {problem && <p class="error" role="alert">{problem}</p>}
        <div class="actions">
          <button type="submit" disabled={run?.running}>{run?.running ? (run.streamed !== undefined ? 'Generating…' : 'Running…') : 'Run'}</button>
          {run?.running && run.streamed !== undefined && <button type="button" class="secondary" onClick={stop}>Stop</button>}
          {task.id === 'translate' && <button type="button" class="secondary" onClick={swap} aria-label="Swap source and target languages">⇄ Swap</button>}
          {task.examples.http.map((example, i) => (
            <button type="button" class="link" onClick={() => { const next = stateFromExample(task, example); setState(next); writeUrl(next); }}>Example {i + 1}</button>
          ))}
        </div>
      </form>
      <section class="result" aria-live="polite" aria-busy={run?.running === true}>
        {run?.error !== undefined && <ErrorBox error={run.error} />}
        {run?.streamed !== undefined && (
          <p class="output generated" data-testid="stream"><span class="prompt">{String(run.body.inputs)}</span>{run.streamed}</p>
        )}
        {run?.stopped && <p class="meta">Stopped: the server was told to stop generating.</p>}
        {run?.result !== undefined && run.streamed === undefined && <ResultView task={task} body={run.body} result={run.result} />}
        {run?.result !== undefined && run.streamed !== undefined && <p class="meta">{String((run.result as { tokens?: number }).tokens ?? '')} tokens, finished by {String((run.result as { finish_reason?: string }).finish_reason ?? '')}</p>}
        {run && !run.running && run.error === undefined && <Commands task={task} body={run.body} />}
      </section>
    </>
  );
}

export function TaskPage() {
  const { params } = useRoute();
  const tasks = useTasks();
  if (tasks.loading && !tasks.data) return <p class="loading" role="status">Loading the task list…</p>;
  if (tasks.error !== undefined) return <ErrorBox error={tasks.error} />;
  const task = tasks.data?.data.find((t) => t.id === params.id);
  if (!task) return <ErrorBox error={new ApiError(404, 'NOT_FOUND', `This server has no task "${params.id}".`)} />;
  // Keyed by task, so moving between playgrounds starts each from its own URL state.
  return <Playground key={task.id} task={task} />;
}
