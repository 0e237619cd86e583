// A training curve drawn by uPlot: the raw values faded behind their smoothed line (TensorBoard's debiased
// exponential moving average, `smoothing` 0 … 0.99), updated in place as points arrive.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Curve {
  label: string;
  values: number[];
}

interface Props {
  title: string;
  steps: number[];
  curves: Curve[];
  smoothing: number;
  /** Draw the raw values faded behind the smoothed line (off: one line per curve, as given). */
  raw?: boolean;
}

/** The debiased exponential moving average of `values` (weight `w` on the past), as TensorBoard smooths scalars. */
export function smooth(values: readonly number[], w: number): number[] {
  let last = 0;
  return values.map((v, i) => {
    last = last * w + (1 - w) * v;
    return w > 0 ? last / (1 - w ** (i + 1)) : v;
  });
}

const COLOURS = ['--accent', '--curve-2', '--curve-3'];

export function CurveChart({ title, steps, curves, smoothing, raw = true }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [steps, ...curves.flatMap((c) => (raw ? [c.values, smooth(c.values, smoothing)] : [c.values]))];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const colour = (name: string) => css.getPropertyValue(name).trim() || '#3366cc';
    const series: uPlot.Series[] = [{ label: 'step' }];
    curves.forEach((c, i) => {
      const stroke = colour(COLOURS[i % COLOURS.length]!);
      if (raw) series.push({ label: `${c.label} (raw)`, stroke, alpha: 0.25, width: 1, points: { show: false } });
      series.push({ label: c.label, stroke, width: 2, points: { show: false } });
    });
    plot.current = new uPlot({
      title, width: Math.max(260, el.clientWidth), height: 220, series,
      scales: { x: { time: false } },
      axes: [{ stroke: colour('--muted'), grid: { stroke: colour('--line') } }, { stroke: colour('--muted'), grid: { stroke: colour('--line') } }],
      legend: { show: true },
    }, data(), el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(260, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, curves.length, raw]);

  useEffect(() => {
    plot.current?.setData(data());
  }, [steps.length, smoothing, curves]);

  return <figure class="curve-chart" aria-label={title} data-points={steps.length}><div ref={box} /></figure>;
}
