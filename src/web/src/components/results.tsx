// Each task's answer shown the way people read it; an unknown task's answer as formatted JSON.
import type { TaskInfo } from '../tasks';
import { Bars } from './bars';
import { Heatmap, cosineMatrix } from './heatmap';
import { SortableTable, type Column } from './sortable-table';

type Label = { label: string; score: number };
type Row = { input: string; label: string; score: number };

/** The inputs as a list and the answers as a list, whether the request held one input or a batch. */
function perInput(body: Record<string, unknown>, result: unknown): { inputs: unknown[]; results: unknown[] } {
  const inputs = body.inputs;
  const batch = Array.isArray(inputs) && !(inputs.length === 2 && typeof inputs[0] === 'string' && !Array.isArray(result));
  return batch ? { inputs: inputs as unknown[], results: result as unknown[] } : { inputs: [inputs], results: [result] };
}

const text = (v: unknown) => (Array.isArray(v) ? v.join('  ↔  ') : String(v));

function Classified({ inputs, results }: { inputs: unknown[]; results: Label[][] }) {
  if (results.length === 1) return <Bars items={results[0]!} caption={text(inputs[0])} />;
  const rows: Row[] = results.map((labels, i) => ({ input: text(inputs[i]), label: labels[0]?.label ?? '', score: labels[0]?.score ?? 0 }));
  const columns: Column<Row>[] = [
    { key: 'input', label: 'Text', value: (r) => r.input },
    { key: 'label', label: 'Label', value: (r) => r.label },
    { key: 'score', label: 'Score', value: (r) => r.score, numeric: true },
  ];
  return <SortableTable columns={columns} rows={rows} filename="classify.csv" />;
}

export function ResultView({ task, body, result }: { task: TaskInfo; body: Record<string, unknown>; result: unknown }) {
  const { inputs, results } = perInput(body, result);
  switch (task.id) {
    case 'classify':
      return <Classified inputs={inputs} results={results as Label[][]} />;
    case 'detect':
      return (
        <>{(results as { language: string; confidence: number }[][]).map((langs, i) => (
          <Bars caption={text(inputs[i])} items={langs.map((l) => ({ label: l.language, score: l.confidence / 100, shown: l.confidence.toFixed(1) }))} />
        ))}</>
      );
    case 'embeddings': {
      const vectors = results as number[][];
      if (vectors.length < 2) {
        const v = vectors[0] ?? [];
        return <p class="vector">{v.length} dimensions: [{v.slice(0, 8).map((x) => x.toFixed(4)).join(', ')}{v.length > 8 ? ', …' : ''}]. Give two or more lines to compare them.</p>;
      }
      return <Heatmap labels={inputs.map(text)} matrix={cosineMatrix(vectors)} />;
    }
    case 'similarity':
      return <Bars items={(results as { score: number }[]).map((r, i) => ({ label: text(inputs[i]), score: r.score, shown: r.score.toFixed(4) }))} />;
    case 'search':
      return (
        <>{(results as { index: number; score: number; text: string }[][]).map((hits, i) => (
          <section class="hits">
            <h3>{text(inputs[i])}</h3>
            <ol>{hits.map((h) => <li><span class="num">{h.score.toFixed(4)}</span> {h.text} <small>(document {h.index + 1})</small></li>)}</ol>
          </section>
        ))}</>
      );
    case 'translate':
      return (
        <>{(results as { text: string; alternatives?: string[] }[]).map((r, i) => (
          <figure class="translation">
            <blockquote lang={String(body.from ?? '') || undefined}>{text(inputs[i])}</blockquote>
            <p lang={String(body.to ?? '') || undefined} class="output">{r.text}</p>
            {r.alternatives && r.alternatives.length > 0 && <details><summary>Alternatives</summary><ol>{r.alternatives.map((a) => <li>{a}</li>)}</ol></details>}
          </figure>
        ))}</>
      );
    case 'fill-mask':
      return (
        <>{(results as { token: string; score: number; sequence: string }[][]).map((candidates, i) => (
          <section class="hits">
            <h3>{text(inputs[i])}</h3>
            <Bars items={candidates.map((c) => ({ label: c.token, score: c.score }))} />
            <ol class="filled">{candidates.map((c) => <li>{c.sequence}</li>)}</ol>
          </section>
        ))}</>
      );
    case 'generate':
      return <>{(results as { text: string }[]).map((r, i) => <p class="output generated"><span class="prompt">{text(inputs[i])}</span>{r.text}</p>)}</>;
    default:
      return <pre class="json">{JSON.stringify(result, null, 2)}</pre>;
  }
}
