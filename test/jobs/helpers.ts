// Job test helpers: a tiny labelled TSV and a JSONL of texts, multipart bodies, SSE parsing, bounded polling.
import { writeFileSync } from 'node:fs';

/** A separable two-class TSV (the data of test/train/cancel.test.ts). */
export function writeToyTsv(path: string, rows = 160): void {
  const words = { positive: ['wonderful', 'great', 'lovely', 'superb'], negative: ['awful', 'dull', 'weak', 'tedious'] };
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'story'];
  const lines = ['text\tlabel'];
  for (let i = 0; i < rows; i++) {
    const label = i % 2 === 0 ? 'positive' : 'negative';
    const text = Array.from({ length: 3 + (i % 4) }, (_, k) => filler[(i + k * 3) % filler.length]);
    text.splice(i % text.length, 0, words[label][(i >> 1) % 4]);
    lines.push(`${text.join(' ')}\t${label}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** `rows` JSONL lines {"id": "r<i>", "text": …}, each text different. */
export function writeTextsJsonl(path: string, rows: number): void {
  const words = ['cat', 'dog', 'sun', 'rain', 'blue', 'green', 'fast', 'slow', 'tree', 'river'];
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, text: `${words[i % 10]} ${words[(i * 7 + 3) % 10]} number ${i}` }));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function multipartBody(fields: Record<string, string>, file: { name: string; content: Buffer | string; field?: string }): { payload: Buffer; contentType: string } {
  const boundary = `----geul${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface SseEvent { id: number; event: string; data: Record<string, unknown> }

export function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((block) => block.includes('data:')).map((block) => {
    const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
    return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
  });
}

/** Polls `check` until it returns a value (bounded by `tries`, not by a time threshold on the work itself). */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, tries = 3000, everyMs = 20): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A job object as the API answers it. */
export interface JobBody {
  id: string; object: string; type: string; state: string; params: Record<string, unknown>;
  progress: { step: number; total: number | null; eta_s: number | null };
  created_at: number; started_at: number | null; finished_at: number | null;
  error: { code: string; message: string } | null; artifacts: { name: string; bytes: number; url: string }[];
}
/** What the routes answer, loosely typed for assertions: a job, a list of jobs, a file, or an error. */
export type ApiBody = Omit<JobBody, 'error'> & { error: { code: string; message: string }; data: JobBody[]; has_more: boolean; bytes: number; purpose: string };
