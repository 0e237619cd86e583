// Human-readable CLI output per task (the --json output is the library's result shape instead).
export function formatHuman(taskId: string, item: unknown, result: unknown): string {
  switch (taskId) {
    case 'classify': {
      const labels = result as { label: string; score: number }[];
      return labels.map((l) => `${l.label}\t${l.score.toFixed(4)}`).join('\t');
    }
    case 'generate':
      return `${String(item)}${(result as { text: string }).text}`;
    case 'translate':
      return (result as { text: string }).text;
    case 'embeddings':
      return (result as number[]).map((v) => v.toFixed(6)).join(' ');
    case 'similarity':
      return (result as { score: number }).score.toFixed(4);
    case 'search':
      return [`# ${String(item)}`, ...(result as { index: number; score: number; text: string }[]).map((h) => `${h.score.toFixed(4)}\t${h.index}\t${h.text}`)].join('\n');
    case 'fill-mask':
      return (result as { token: string; score: number; sequence: string }[]).map((c) => `${c.score.toFixed(4)}\t${c.token}\t${c.sequence}`).join('\n');
    default:
      return JSON.stringify(result);
  }
}
