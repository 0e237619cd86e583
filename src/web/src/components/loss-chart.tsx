// Loss and accuracy against training step, drawn by uPlot and updated in place as a run reports.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Curve {
  steps: number[];
  loss: number[];
  accuracy: number[];
}

export function LossChart({ curve }: { curve: Curve }) {
  const box = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const colour = (name: string) => css.getPropertyValue(name).trim() || '#888';
    const plot = new uPlot({
      width: el.clientWidth,
      height: 220,
      scales: { x: { time: false }, loss: { range: (_u, _min, max) => [0, Math.max(max, 0.1)] }, acc: { range: [0, 1] } },
      axes: [
        { stroke: colour('--muted'), grid: { stroke: colour('--line') }, label: 'step' },
        { scale: 'loss', stroke: colour('--muted'), grid: { stroke: colour('--line') }, label: 'loss' },
        { scale: 'acc', side: 1, stroke: colour('--muted'), grid: { show: false }, label: 'accuracy' },
      ],
      series: [
        { label: 'step' },
        { label: 'loss', scale: 'loss', stroke: colour('--bar'), width: 2 },
        { label: 'accuracy', scale: 'acc', stroke: colour('--muted'), width: 1.5, dash: [6, 4] },
      ],
    }, [[], [], []], el);
    plotRef.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: plot.height }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.destroy(); plotRef.current = null; };
  }, []);
  useEffect(() => { plotRef.current?.setData([curve.steps, curve.loss, curve.accuracy]); }, [curve]);
  return <div ref={box} class="loss-chart" role="img" aria-label={`Loss and accuracy over ${curve.steps.length} reports`} />;
}
