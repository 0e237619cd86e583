// A table whose columns sort on click (and with Enter/Space on the header button), with a CSV download.
import { useState } from 'preact/hooks';

export interface Column<Row> {
  key: string;
  label: string;
  value(row: Row): string | number;
  numeric?: boolean;
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv<Row>(columns: Column<Row>[], rows: Row[]): string {
  return [columns.map((c) => csvCell(c.label)), ...rows.map((r) => columns.map((c) => csvCell(c.value(r))))].map((l) => l.join(',')).join('\n') + '\n';
}

export function SortableTable<Row>({ columns, rows, filename }: { columns: Column<Row>[]; rows: Row[]; filename: string }) {
  const [sort, setSort] = useState<{ key: string; desc: boolean } | null>(null);
  const column = columns.find((c) => c.key === sort?.key);
  const sorted = column
    ? [...rows].sort((a, b) => {
      const [x, y] = [column.value(a), column.value(b)];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort!.desc ? -order : order;
    })
    : rows;
  const download = () => {
    const url = URL.createObjectURL(new Blob([toCsv(columns, sorted)], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div class="table-wrap">
      <table class="results">
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" aria-sort={sort?.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                <button type="button" class="sort" onClick={() => setSort({ key: c.key, desc: sort?.key === c.key ? !sort.desc : c.numeric === true })}>
                  {c.label}{sort?.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => <tr>{columns.map((c) => <td class={c.numeric ? 'num' : undefined}>{typeof c.value(row) === 'number' ? (c.value(row) as number).toFixed(4) : c.value(row)}</td>)}</tr>)}
        </tbody>
      </table>
      <button type="button" class="secondary" onClick={download}>Download CSV</button>
    </div>
  );
}
