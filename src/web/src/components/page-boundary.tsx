// Catches a page that fails to render or whose code chunk fails to load, so the main area says so instead of going blank.
import type { ComponentChildren, ComponentType } from 'preact';
import { useEffect, useErrorBoundary } from 'preact/hooks';
import { lazy, useLocation } from 'preact-iso';

/**
 * preact-iso's lazy() leaves a rejected import pending forever (a blank page and an unhandled rejection);
 * turning the rejection into a page that throws hands it to the boundary like any render error.
 */
export function lazyPage<P>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  return lazy(() => load().catch((error: unknown) => function FailedPage(): never { throw error; }));
}

export function PageBoundary({ children }: { children: ComponentChildren }) {
  const [error, reset] = useErrorBoundary();
  const { url } = useLocation();
  // Another address is another page: let it try to render.
  useEffect(() => { if (error) reset(); }, [url]);
  if (!error) return <>{children}</>;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <section>
      <div class="error" role="alert">
        <strong>This page failed to load or render.</strong>
        <p>{message}</p>
        <p>The server may have been updated since this page was opened: <a href={url} onClick={(e) => { e.preventDefault(); location.reload(); }}>reload the page</a>.</p>
      </div>
    </section>
  );
}
