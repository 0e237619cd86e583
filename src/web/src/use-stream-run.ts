// One streamed run at a time (the playgrounds' POST … SSE): start, stop, phase and error, aborted when the page goes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { postStream } from './api';

export type RunPhase = 'idle' | 'running' | 'done' | 'stopped' | 'failed';

export interface StreamRun {
  phase: RunPhase;
  error: unknown;
  /** Aborts any run in flight, then streams `body` to `path`; `onEvent` sees each event and may end the run's phase. */
  start(path: string, body: unknown, onEvent: (event: Record<string, unknown>, setPhase: (p: RunPhase) => void) => void): Promise<void>;
  stop(): void;
}

export function useStreamRun(): StreamRun {
  const [phase, setPhase] = useState<RunPhase>('idle');
  const [error, setError] = useState<unknown>(undefined);
  const run = useRef<AbortController | null>(null);
  // Leaving the page closes the stream, which stops the run on the server.
  useEffect(() => () => run.current?.abort(), []);

  const start: StreamRun['start'] = async (path, body, onEvent) => {
    run.current?.abort();
    const controller = new AbortController();
    run.current = controller;
    setError(undefined);
    setPhase('running');
    try {
      for await (const event of postStream(path, body, controller.signal)) {
        if (event.stopped) setPhase('stopped');
        else onEvent(event, setPhase);
      }
    } catch (err) {
      // A stop or a newer start aborted this stream: not a failure.
      if ((err as Error).name === 'AbortError') return;
      setError(err);
      setPhase('failed');
    } finally {
      if (run.current === controller) run.current = null;
    }
  };
  const stop = () => {
    run.current?.abort();
    run.current = null;
    setPhase('stopped');
  };
  return { phase, error, start, stop };
}
