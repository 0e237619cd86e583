// The playground's decision boundary: the model's P(class 1) on a lattice, painted under the data points by uPlot
// (a drawClear hook fills the cells, two point series draw the classes), on the fixed square [-1, 1]².
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface Props {
  /** Point coordinates [x0, y0, x1, y1, …] and their classes. */
  x: number[];
  y: number[];
  /** P(class 1) on a size × size lattice, row-major from the top-left corner (-1, 1); empty before the first report. */
  grid: number[];
}

const SQUARE: [number, number] = [-1, 1];

export function BoundaryPlot({ x, y, grid }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const gridRef = useRef<number[]>(grid);
  gridRef.current = grid;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // uPlot wants ascending x: sort the points once, each class its own series (null where the other class is).
    const order = y.map((_, i) => i).sort((a, b) => x[a * 2]! - x[b * 2]!);
    const xs = order.map((i) => x[i * 2]!);
    const ofClass = (c: number) => order.map((i) => (y[i] === c ? x[i * 2 + 1]! : null));
    const css = getComputedStyle(document.documentElement);
    const rgb = (name: string) => css.getPropertyValue(name).trim() || '128, 128, 128';
    const [c0, c1] = [rgb('--class0'), rgb('--class1')];
    const paint = (u: uPlot) => {
      const cells = gridRef.current;
      const size = Math.round(Math.sqrt(cells.length));
      if (size < 2) return;
      const { ctx } = u;
      // Cell (r, c) is centred on lattice point (-1 + 2c/(size-1), 1 - 2r/(size-1)).
      const step = 2 / (size - 1);
      ctx.save();
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const p = cells[r * size + c]!;
          const cx = -1 + c * step;
          const cy = 1 - r * step;
          const left = u.valToPos(Math.max(-1, cx - step / 2), 'x', true);
          const right = u.valToPos(Math.min(1, cx + step / 2), 'x', true);
          const top = u.valToPos(Math.min(1, cy + step / 2), 'y', true);
          const bottom = u.valToPos(Math.max(-1, cy - step / 2), 'y', true);
          // Strength grows with confidence; the boundary (p = 0.5) stays pale.
          ctx.fillStyle = `rgba(${p >= 0.5 ? c1 : c0}, ${(Math.abs(p - 0.5) * 1.3).toFixed(3)})`;
          ctx.fillRect(left, top, right - left + 0.5, bottom - top + 0.5);
        }
      }
      ctx.restore();
    };
    const side = Math.min(440, el.clientWidth);
    const dot = (c: string) => ({ stroke: `rgb(${c})`, paths: () => null, points: { show: true, size: 9, width: 1.25, fill: `rgb(${c})`, stroke: '#ffffff' } });
    const plot = new uPlot({
      width: side,
      height: side,
      scales: { x: { time: false, range: SQUARE }, y: { range: SQUARE } },
      legend: { show: false },
      cursor: { show: false },
      axes: [{ stroke: css.getPropertyValue('--muted').trim(), grid: { show: false } }, { stroke: css.getPropertyValue('--muted').trim(), grid: { show: false } }],
      series: [{}, { label: 'class 0', ...dot(c0) }, { label: 'class 1', ...dot(c1) }],
      hooks: { drawClear: [paint] },
    }, [xs, ofClass(0), ofClass(1)] as uPlot.AlignedData, el);
    plotRef.current = plot;
    const resize = new ResizeObserver(() => {
      const s = Math.min(440, el.clientWidth);
      if (s !== plot.width) plot.setSize({ width: s, height: s });
    });
    resize.observe(el);
    return () => { resize.disconnect(); plot.destroy(); plotRef.current = null; };
  }, [x, y]);

  useEffect(() => { plotRef.current?.redraw(false); }, [grid]);

  const share = grid.length ? Math.round((100 * grid.filter((p) => p >= 0.5).length) / grid.length) : undefined;
  return (
    <div
      ref={box}
      class="boundary"
      role="img"
      data-testid="boundary"
      data-class1-share={share}
      aria-label={share === undefined ? `${y.length} data points, not trained yet` : `Decision boundary over ${y.length} data points: the model calls ${share} % of the square class 1`}
    />
  );
}
