// An n × n similarity matrix as a labelled grid of shaded cells (each cell also says its number, for screen readers and print).
export function Heatmap({ labels, matrix }: { labels: string[]; matrix: number[][] }) {
  const short = (s: string) => (s.length > 24 ? `${s.slice(0, 23)}…` : s);
  return (
    <div class="table-wrap">
      <table class="heatmap" aria-label="Cosine similarity between every pair of texts">
        <thead>
          <tr><td />{labels.map((l) => <th scope="col" title={l}>{short(l)}</th>)}</tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr>
              <th scope="row" title={labels[i]}>{short(labels[i]!)}</th>
              {row.map((v) => {
                const shade = Math.max(0, Math.min(1, (v + 1) / 2));
                // Light text on the darker half of the scale, so every number stays readable.
                return <td class={shade > 0.6 ? 'cell strong' : 'cell'} style={{ '--v': String(shade) }}>{v.toFixed(2)}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Cosine similarity of every pair of vectors. */
export function cosineMatrix(vectors: number[][]): number[][] {
  const norms = vectors.map((v) => Math.hypot(...v) || 1);
  return vectors.map((a, i) => vectors.map((b, j) => a.reduce((s, x, k) => s + x * b[k]!, 0) / (norms[i]! * norms[j]!)));
}
