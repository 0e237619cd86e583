// A loaded file as the form's one-per-line text: plain lines, or a JSONL file's "text" fields (as the CLI's --docs reads it).

/** A line of a JSONL file: a JSON string, or an object with a string `text`; anything else says which line is wrong. */
function textOfJsonLine(line: string, n: number, name: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`${name}, line ${n}: not valid JSON`);
  }
  if (typeof value === 'string') return value;
  const text = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).text : undefined;
  if (typeof text === 'string') return text;
  throw new Error(`${name}, line ${n}: each line must be a JSON string or an object with a "text" string field`);
}

/**
 * The texts of a file, one per line. Blank lines are skipped, as the CLI skips them. A JSONL text's own line breaks
 * become spaces: the form holds one text per line, so a break would split one document into two.
 */
export function linesOfFile(name: string, content: string): string {
  const jsonl = /\.jsonl$/i.test(name);
  const out: string[] = [];
  content.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(jsonl ? textOfJsonLine(line, i + 1, name).replace(/\s*[\r\n]+\s*/g, ' ') : line);
  });
  return out.join('\n');
}
