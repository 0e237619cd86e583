// An inline "are you sure?" for destructive actions: focus lands on Cancel (the safe choice), Escape cancels.
import { useLayoutEffect, useRef } from 'preact/hooks';
import { ErrorBox } from './error-box';

export function Confirm({ question, yes, busy, error, onYes, onCancel }: {
  question: string; yes: string; busy: boolean; error?: unknown; onYes(): void; onCancel(): void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => cancel.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-label={question} onKeyDown={(e) => { if (e.key === 'Escape') onCancel(); }}>
      <span>{question}</span>
      <button type="button" disabled={busy} onClick={onYes}>{yes}</button>
      <button type="button" class="secondary" ref={cancel} onClick={onCancel}>Cancel</button>
      {error !== undefined && <ErrorBox error={error} />}
    </div>
  );
}
