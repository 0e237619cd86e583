// Scored labels as horizontal bars (label, bar, number): classification, detection, fill-mask candidates.
export interface Scored {
  label: string;
  /** 0..1 */
  score: number;
  /** What to print next to the bar (default: the score as a percentage). */
  shown?: string;
}

export function Bars({ items, caption }: { items: Scored[]; caption?: string }) {
  return (
    <table class="bars">
      {caption && <caption>{caption}</caption>}
      <tbody>
        {items.map((item) => (
          <tr>
            <th scope="row">{item.label}</th>
            <td class="bar-cell">
              <span class="bar" style={{ width: `${Math.max(0, Math.min(1, item.score)) * 100}%` }} />
            </td>
            <td class="num">{item.shown ?? `${(item.score * 100).toFixed(1)} %`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
