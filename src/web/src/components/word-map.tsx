// A 2-D map of word vectors (PCA or UMAP, computed in the browser) drawn by uPlot: drag to zoom, double-click to reset,
// hover names the nearest word; a searched word is ringed and labelled.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface MapPoint {
  word: string;
  x: number;
  y: number;
  /** The words the user asked for (the rest are their neighbours). */
  query: boolean;
}

interface Props {
  points: MapPoint[];
  highlight?: string;
  onPick?(word: string): void;
}

function padded(_u: uPlot, min: number, max: number): [number, number] {
  const pad = (max - min || 1) * 0.12;
  return [min - pad, max + pad];
}

export function WordMap({ points, highlight, onPick }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const hovered = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || points.length === 0) return;
    // uPlot wants ascending x: sort once and keep the words in that order.
    const sorted = [...points].sort((a, b) => a.x - b.x);
    const css = getComputedStyle(document.documentElement);
    const colour = (name: string) => css.getPropertyValue(name).trim() || '#888';
    let nearest = -1;
    const labels = (u: uPlot) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.textBaseline = 'bottom';
      sorted.forEach((p, i) => {
        const x = u.valToPos(p.x, 'x', true);
        const y = u.valToPos(p.y, 'y', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width || y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
        const strong = p.word === highlight || i === nearest;
        ctx.fillStyle = colour(p.query || strong ? '--fg' : '--muted');
        ctx.fillText(p.word, x + 5 * devicePixelRatio, y - 2 * devicePixelRatio);
        if (strong) {
          ctx.strokeStyle = colour('--accent');
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          ctx.arc(x, y, 7 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.stroke();
        }
      });
      ctx.restore();
    };
    const plot = new uPlot({
      width: el.clientWidth,
      height: Math.min(520, Math.max(300, el.clientWidth * 0.6)),
      // A margin around the points, so edge words and their labels stay inside the plot.
      scales: { x: { time: false, range: padded }, y: { range: padded } },
      legend: { show: false },
      axes: [{ stroke: colour('--muted'), grid: { stroke: colour('--line') } }, { stroke: colour('--muted'), grid: { stroke: colour('--line') } }],
      cursor: {
        drag: { x: true, y: true, uni: 20 },
        // Nearest point in two dimensions, not just along x.
        dataIdx: (u, _series, closest) => {
          const left = u.cursor.left ?? -1;
          const top = u.cursor.top ?? -1;
          if (left < 0) return closest;
          let best = closest;
          let bestD = Infinity;
          sorted.forEach((p, i) => {
            const d = (u.valToPos(p.x, 'x') - left) ** 2 + (u.valToPos(p.y, 'y') - top) ** 2;
            if (d < bestD) [best, bestD] = [i, d];
          });
          return best;
        },
      },
      series: [
        {},
        { stroke: colour('--bar'), fill: colour('--bar'), paths: () => null, points: { show: true, size: 7, fill: colour('--bar') } },
      ],
      hooks: {
        draw: [labels],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          if (i === nearest) return;
          nearest = i ?? -1;
          if (hovered.current) hovered.current.textContent = i == null ? '' : sorted[i]!.word;
          u.redraw(false);
        }],
      },
    }, [sorted.map((p) => p.x), sorted.map((p) => p.y)], el);
    const click = () => { if (nearest >= 0) onPick?.(sorted[nearest]!.word); };
    plot.over.addEventListener('click', click);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: plot.height }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.over.removeEventListener('click', click); plot.destroy(); };
  }, [points, highlight]);
  return (
    <figure class="word-map">
      <div ref={box} role="img" aria-label={`Map of ${points.length} words: ${points.map((p) => p.word).join(', ')}`} />
      <figcaption>
        <span class="meta">Drag to zoom, double-click to reset; click a word to show only its neighbourhood.</span>{' '}
        <strong ref={hovered} data-testid="hovered" />
      </figcaption>
    </figure>
  );
}
