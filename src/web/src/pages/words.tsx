// Word vectors: nearest neighbours, analogies, the odd one out, and a map of words and their neighbourhoods.
import { useState } from 'preact/hooks';
import { postJson } from '../api';
import { Bars } from '../components/bars';
import { ErrorBox } from '../components/error-box';
import { WordMap, type MapPoint } from '../components/word-map';
import { project, type Method } from '../projection';
import { useGet } from '../use-api';

interface VectorSet { name: string; state: string; default: boolean; words?: number; dim?: number; error?: string }
type Scored = { word: string; score: number };

const splitWords = (text: string) => text.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean);

function useQuery<T>() {
  const [state, setState] = useState<{ data?: T; error?: unknown; busy: boolean }>({ busy: false });
  const run = async (path: string, body: unknown) => {
    setState({ busy: true });
    try {
      setState({ data: await postJson<T>(path, body), busy: false });
    } catch (error) {
      setState({ error, busy: false });
    }
  };
  return { ...state, run };
}

function Neighbours({ vectors }: { vectors: string }) {
  const [word, setWord] = useState('');
  const q = useQuery<{ results: Scored[] }>();
  return (
    <form class="word-tool" onSubmit={(e) => { e.preventDefault(); void q.run('/v1/words/similar', { vectors, word: word.trim(), topn: 10 }); }}>
      <h2>Nearest neighbours</h2>
      <label for="neighbours-word">Word</label>
      <div class="row"><input id="neighbours-word" type="text" value={word} required onInput={(e) => setWord((e.currentTarget as HTMLInputElement).value)} /><button type="submit" disabled={q.busy}>Find</button></div>
      {q.error !== undefined && <ErrorBox error={q.error} />}
      {q.data && <Bars items={q.data.results.map((r) => ({ label: r.word, score: Math.max(0, r.score), shown: r.score.toFixed(3) }))} />}
    </form>
  );
}

function Analogy({ vectors }: { vectors: string }) {
  const [abc, setAbc] = useState({ a: '', b: '', c: '' });
  const q = useQuery<{ results: Scored[] }>();
  const input = (key: 'a' | 'b' | 'c', label: string) => (
    <input id={`analogy-${key}`} aria-label={label} type="text" value={abc[key]} required onInput={(e) => setAbc({ ...abc, [key]: (e.currentTarget as HTMLInputElement).value.trim() })} />
  );
  return (
    <form class="word-tool" onSubmit={(e) => { e.preventDefault(); void q.run('/v1/words/analogy', { vectors, ...abc, topn: 5 }); }}>
      <h2>Analogy</h2>
      <p class="meta">A is to B as C is to ? (B − A + C)</p>
      <div class="row analogy">{input('a', 'A')}<span>:</span>{input('b', 'B')}<span>=</span>{input('c', 'C')}<span>: ?</span><button type="submit" disabled={q.busy}>Solve</button></div>
      {q.error !== undefined && <ErrorBox error={q.error} />}
      {q.data && <Bars items={q.data.results.map((r) => ({ label: r.word, score: Math.max(0, r.score), shown: r.score.toFixed(3) }))} />}
    </form>
  );
}

function OddOneOut({ vectors }: { vectors: string }) {
  const [words, setWords] = useState('');
  const q = useQuery<{ word: string }>();
  return (
    <form class="word-tool" onSubmit={(e) => { e.preventDefault(); void q.run('/v1/words/odd', { vectors, words: splitWords(words) }); }}>
      <h2>Odd one out</h2>
      <label for="odd-words">Words (spaces or commas between them)</label>
      <div class="row"><input id="odd-words" type="text" value={words} required onInput={(e) => setWords((e.currentTarget as HTMLInputElement).value)} /><button type="submit" disabled={q.busy}>Pick</button></div>
      {q.error !== undefined && <ErrorBox error={q.error} />}
      {q.data && <p class="output" data-testid="odd">{q.data.word}</p>}
    </form>
  );
}

function MapTool({ vectors }: { vectors: string }) {
  const [words, setWords] = useState('');
  const [neighbours, setNeighbours] = useState(8);
  const [method, setMethod] = useState<Method>('pca');
  const [search, setSearch] = useState('');
  const [state, setState] = useState<{ points?: MapPoint[]; missing?: string[]; error?: unknown; busy: boolean }>({ busy: false });

  const draw = async (queries: string[]) => {
    setState({ busy: true });
    try {
      const around = neighbours > 0
        ? await Promise.all(queries.map((word) => postJson<{ results: Scored[] }>('/v1/words/similar', { vectors, word, topn: neighbours }).then((r) => r.results.map((s) => s.word), () => [])))
        : [];
      const all = [...new Set([...queries, ...around.flat()])];
      const answer = await postJson<{ data: { word: string; vector: number[] | null }[] }>('/v1/words/vectors', { vectors, words: all });
      const found = answer.data.filter((d) => d.vector !== null);
      const xy = project(found.map((d) => d.vector!), method);
      setState({
        busy: false,
        missing: answer.data.filter((d) => d.vector === null).map((d) => d.word),
        points: found.map((d, i) => ({ word: d.word, x: xy[i]![0], y: xy[i]![1], query: queries.includes(d.word) })),
      });
    } catch (error) {
      setState({ error, busy: false });
    }
  };
  return (
    <form class="word-tool wide" onSubmit={(e) => { e.preventDefault(); void draw(splitWords(words)); }}>
      <h2>Map</h2>
      <label for="map-words">Words to map</label>
      <input id="map-words" type="text" value={words} required placeholder="king queen man woman apple" onInput={(e) => setWords((e.currentTarget as HTMLInputElement).value)} />
      <div class="row">
        <label for="map-neighbours">Neighbours of each</label>
        <input id="map-neighbours" type="number" min={0} max={50} value={neighbours} onInput={(e) => setNeighbours(Number((e.currentTarget as HTMLInputElement).value) || 0)} />
        <label for="map-method">Projection</label>
        <select id="map-method" value={method} onChange={(e) => setMethod((e.currentTarget as HTMLSelectElement).value as Method)}>
          <option value="pca">PCA (linear: distances along the main directions)</option>
          <option value="umap">UMAP (keeps neighbourhoods)</option>
        </select>
        <button type="submit" disabled={state.busy}>{state.busy ? 'Mapping…' : 'Draw'}</button>
      </div>
      {state.error !== undefined && <ErrorBox error={state.error} />}
      {state.missing && state.missing.length > 0 && <p class="meta">Not in this set: {state.missing.join(', ')}</p>}
      {state.points && (
        <>
          <label for="map-search">Find on the map</label>
          <input id="map-search" type="search" value={search} onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value.trim())} />
          <WordMap points={state.points} highlight={search || undefined} onPick={(word) => { setWords(word); void draw([word]); }} />
        </>
      )}
    </form>
  );
}

export function WordsPage() {
  const sets = useGet<{ default: string | null; data: VectorSet[] }>('/v1/words/vectors');
  const [chosen, setChosen] = useState<string | null>(null);
  if (sets.loading && !sets.data) return <p class="loading" role="status">Loading the vector sets…</p>;
  if (sets.error !== undefined) return <ErrorBox error={sets.error} />;
  const list = sets.data?.data ?? [];
  const ready = list.filter((s) => s.state === 'ready' || s.state === 'loading');
  const vectors = chosen ?? sets.data?.default ?? ready[0]?.name;
  return (
    <>
      <header class="page-head">
        <h1>Word vectors</h1>
        <p>Neighbours, analogies and maps of a word2vec, GloVe or fastText set this server has loaded.</p>
      </header>
      {list.length === 0 || !vectors ? (
        <section class="notice" role="status">
          <h2>No word vectors loaded</h2>
          <p>Start the server with a vector file, e.g. <code>geul serve --vectors en=vectors.bin</code> (train one with <code>geul word2vec train</code>).</p>
        </section>
      ) : (
        <>
          <label for="vector-set">Vector set</label>{' '}
          <select id="vector-set" value={vectors} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
            {list.map((s) => <option value={s.name} disabled={s.state === 'failed'}>{s.name}{s.words ? ` — ${s.words.toLocaleString()} words × ${s.dim}` : ''}{s.state !== 'ready' ? ` (${s.state})` : ''}</option>)}
          </select>
          <div class="word-tools" key={vectors}>
            <Neighbours vectors={vectors} />
            <Analogy vectors={vectors} />
            <OddOneOut vectors={vectors} />
            <MapTool vectors={vectors} />
          </div>
        </>
      )}
    </>
  );
}
