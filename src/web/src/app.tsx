// The UI shell: header with navigation and API-key sign-in, the page router, and a page for unknown addresses.
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso';
import { currentKey, onKeyChange, setKey } from './api';
import { PageBoundary, lazyPage } from './components/page-boundary';
import { Home } from './pages/home';
import { KeysPage } from './pages/keys';
import { ModelsPage } from './pages/models';
import { TaskPage } from './pages/task-page';
import { useTasks } from './use-api';

// The map's libraries (PCA, UMAP, uPlot) are most of the bundle: loaded only when the page is opened.
const WordsPage = lazyPage(() => import('./pages/words').then((m) => m.WordsPage));
const PlaygroundPage = lazyPage(() => import('./pages/playground').then((m) => m.PlaygroundPage));
const TrainPage = lazyPage(() => import('./pages/train').then((m) => m.TrainPage));

function SignIn() {
  const [key, setKeyState] = useState(currentKey());
  const [open, setOpen] = useState(false);
  useEffect(() => onKeyChange(() => setKeyState(currentKey())), []);
  if (key) {
    return <button type="button" class="secondary" onClick={() => setKey(null)}>Sign out</button>;
  }
  if (!open) return <button type="button" class="secondary" onClick={() => setOpen(true)}>API key</button>;
  return (
    <form class="sign-in" onSubmit={(e) => {
      e.preventDefault();
      const value = (new FormData(e.currentTarget as HTMLFormElement).get('key') as string).trim();
      if (value) setKey(value);
      setOpen(false);
    }}>
      <label for="api-key">API key</label>
      <input id="api-key" name="key" type="password" autocomplete="off" required autofocus />
      <button type="submit">Sign in</button>
    </form>
  );
}

function Nav() {
  const tasks = useTasks();
  return (
    <nav aria-label="Pages">
      <a href="/ui/">Home</a>
      {(tasks.data?.data ?? []).map((t) => <a href={`/ui/tasks/${t.id}`}>{t.id}</a>)}
      <a href="/ui/words">word vectors</a>
      <a href="/ui/playground">neural networks</a>
      <a href="/ui/models">models</a>
      <a href="/ui/keys">API keys</a>
      <a href="/ui/train">train</a>
    </nav>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>No page here. <a href="/ui/">Go to the home page</a>.</p>
    </section>
  );
}

export function App() {
  return (
    <LocationProvider>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/ui/">geul</a>
        <Nav />
        <SignIn />
      </header>
      <main id="main" tabIndex={-1}>
        <PageBoundary>
          <Router>
            <Route path="/" component={Home} />
            <Route path="/ui/" component={Home} />
            <Route path="/ui/tasks/:id" component={TaskPage} />
            <Route path="/ui/words" component={WordsPage} />
            <Route path="/ui/playground" component={PlaygroundPage} />
            <Route path="/ui/models" component={ModelsPage} />
            <Route path="/ui/keys" component={KeysPage} />
            <Route path="/ui/train" component={TrainPage} />
            <Route default component={NotFound} />
          </Router>
        </PageBoundary>
      </main>
    </LocationProvider>
  );
}
