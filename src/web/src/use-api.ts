// Loading state for one GET: data, error, and a reload; the task list is fetched once and shared by every page.
import { useEffect, useState } from 'preact/hooks';
import { currentKey, getJson, onKeyChange } from './api';
import type { TaskInfo } from './tasks';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload(): void;
}

export function useGet<T>(path: string | null, accept: readonly number[] = []): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => onKeyChange(() => setTick((t) => t + 1)), []);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path, controller.signal, accept).then(
      (data) => setState({ data, loading: false }),
      (error: unknown) => { if (!controller.signal.aborted) setState({ error, loading: false }); },
    );
    return () => controller.abort();
  }, [path, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

// One GET /v1/tasks for the whole page (the navigation and the page both need it); fetched again after sign-in.
let tasksRequest: { key: string | null; promise: Promise<{ data: TaskInfo[] }> } | undefined;

export function useTasks(): Loaded<{ data: TaskInfo[] }> {
  const [state, setState] = useState<{ data?: { data: TaskInfo[] }; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => onKeyChange(() => setTick((t) => t + 1)), []);
  useEffect(() => {
    let live = true;
    if (!tasksRequest || tasksRequest.key !== currentKey()) tasksRequest = { key: currentKey(), promise: getJson<{ data: TaskInfo[] }>('/v1/tasks') };
    const request = tasksRequest;
    request.promise.then(
      (data) => { if (live) setState({ data, loading: false }); },
      (error: unknown) => {
        if (tasksRequest === request) tasksRequest = undefined; // a failure is not cached: the next page asks again
        if (live) setState({ error, loading: false });
      },
    );
    return () => { live = false; };
  }, [tick]);
  return { ...state, reload: () => { tasksRequest = undefined; setTick((t) => t + 1); } };
}
