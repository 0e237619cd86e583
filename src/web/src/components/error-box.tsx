// An error in words, with what to do about it: never a blank page.
import { ApiError } from '../api';

function advice(error: ApiError): string | undefined {
  if (error.status === 0) return 'Start the server again with `geul serve`, then retry.';
  if (error.status === 401) return 'This server needs an API key: sign in with one (top right). An admin creates keys with `geul keys create`.';
  if (error.status === 403) return 'Your API key lacks the scope for this. Ask an admin for a key with it.';
  if (error.status === 429) return error.retryAfter ? `Too many requests: wait ${error.retryAfter} s and try again.` : 'Too many requests, or your quota is used up: wait a moment and try again.';
  if (error.code === 'OFFLINE_NOT_CACHED') return 'The model is not on this machine and the server is offline: fetch it while online with the command above, or choose a cached model under Options.';
  if (error.code === 'MODEL_NOT_FOUND') return 'Check the model name under Options, or leave it empty for the server default.';
  if (error.status === 503 && (error.code === 'OVERLOADED' || error.retryAfter !== undefined)) {
    return error.retryAfter ? `The server is busy with other requests: retry in ${error.retryAfter} s.` : 'The server is busy with other requests: retry in a moment.';
  }
  if (error.status >= 500) return 'The server failed on this request; its log says more (the request id is in the x-request-id header).';
  return undefined;
}

export function ErrorBox({ error }: { error: unknown }) {
  const api = error instanceof ApiError ? error : new ApiError(0, 'ERROR', String((error as Error)?.message ?? error));
  const hint = advice(api);
  return (
    <div class="error" role="alert">
      <strong>{api.message}</strong>
      {api.status > 0 && <span class="code"> ({api.code}, HTTP {api.status})</span>}
      {hint && <p>{hint}</p>}
    </div>
  );
}
