// The batch `embed` job: a JSONL/CSV/TSV/Parquet file of texts → embeddings.jsonl, one line per input row in input
// order, written in chunks; after a crash it resumes after the last finished chunk, so every row appears exactly once.
import { existsSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { ModelStore } from '../runtime/models.js';
import { writeAtomic } from '../train/checkpoint.js';
import { DATA_FORMATS, detectFormat, rowReader, type DataFormat } from '../train/data/formats.js';
import { embedTask } from '../tasks/embeddings.js';
import { runTask } from '../tasks/run.js';
import { defineJobType } from './job-type.js';

export const EMBED_OUTPUT = 'embeddings.jsonl';
/** The output while it grows (hidden, so not an artifact): renamed to EMBED_OUTPUT once every row is in. */
export const EMBED_PARTIAL = '.embeddings.jsonl.partial';
/** How far the output is committed: rows done and the output's length in bytes after them. */
const STATE_FILE = '.embed-state.json';

interface EmbedState { rows: number; bytes: number; total: number }

export const EmbedParams = Type.Object({
  input: Type.String({ minLength: 1, description: 'Input file id (POST /v1/files): .jsonl, .csv, .tsv or .parquet with a text column' }),
  format: Type.Optional(Type.Enum(DATA_FORMATS.filter((f) => f !== 'folder'), { description: 'Input format (default: from the file name)' })),
  text: Type.String({ minLength: 1, default: 'text', description: 'Column (JSONL field) holding the text' }),
  id: Type.Optional(Type.String({ minLength: 1, description: 'Column copied to each output line as "id"' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Embedding model (as for POST /v1/embeddings)' })),
  pooling: Type.Enum(['mean', 'cls'], { default: 'mean' }),
  normalize: Type.Boolean({ default: true }),
  chunkSize: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'Rows per chunk: the unit of progress, output and resume' }),
}, { additionalProperties: false });

async function readState(dir: string): Promise<EmbedState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as EmbedState;
  } catch {
    return undefined;
  }
}

async function countRows(path: string, format: DataFormat): Promise<number> {
  let n = 0;
  for await (const _row of rowReader(path, format).rows()) n++;
  return n;
}

export const embedJob = defineJobType({
  id: 'embed',
  description: 'Embed every text of a file into embeddings.jsonl ({"index", "id"?, "embedding"} per row, in input order)',
  params: EmbedParams,
  fileFields: ['input'],
  modelFields: { model: 'embeddings' },
  async run(params, { signal, emit, workDir, resume, config }) {
    const format = params.format ?? (await detectFormat(params.input));
    const partial = join(workDir, EMBED_PARTIAL);
    const saved = resume ? await readState(workDir) : undefined;
    // An attempt that died after its final rename is done; one whose partial output is gone starts over.
    if (saved && saved.rows === saved.total && existsSync(join(workDir, EMBED_OUTPUT))) return;
    const previous = saved && existsSync(partial) ? saved : undefined;
    const state: EmbedState = previous ?? { rows: 0, bytes: 0, total: await countRows(params.input, format) };
    if (!previous) await writeAtomic(join(workDir, STATE_FILE), JSON.stringify(state));
    emit({ kind: 'progress', step: state.rows, total: state.total });
    const models = new ModelStore(config);
    // Whatever an interrupted attempt appended after its last committed chunk is cut off here, then written again.
    const out = await open(partial, previous ? 'r+' : 'w');
    try {
      await out.truncate(state.bytes);
      let index = 0;
      let chunk: { index: number; text: string; id?: unknown }[] = [];
      const flush = async () => {
        if (signal.aborted) throw geulError('CANCELLED');
        const vectors = await runTask(embedTask, { model: params.model, inputs: chunk.map((r) => r.text), pooling: params.pooling, normalize: params.normalize }, { models, signal }) as number[][];
        const text = chunk.map((r, i) => `${JSON.stringify({ index: r.index, ...(params.id !== undefined && { id: r.id }), embedding: vectors[i] })}\n`).join('');
        const bytes = Buffer.from(text);
        await out.write(bytes, 0, bytes.length, state.bytes);
        await out.sync();
        state.rows += chunk.length;
        state.bytes += bytes.length;
        await writeAtomic(join(workDir, STATE_FILE), JSON.stringify(state));
        chunk = [];
        emit({ kind: 'progress', step: state.rows, total: state.total });
      };
      for await (const row of rowReader(params.input, format).rows()) {
        const at = index++;
        if (at < state.rows) continue;
        const text = row.values[params.text];
        if (text === undefined) throw geulError('DATA_COLUMN_MISSING', { column: params.text, path: params.input, where: ` (${row.where})`, columns: Object.keys(row.values).join(', ') });
        if (typeof text !== 'string' || text === '') throw geulError('DATA_EMPTY_TEXT', { path: params.input, where: ` ${row.where}`, column: params.text });
        chunk.push({ index: at, text, id: params.id !== undefined ? row.values[params.id] : undefined });
        if (chunk.length >= params.chunkSize) await flush();
      }
      if (chunk.length > 0) await flush();
    } finally {
      await out.close();
    }
    await rename(partial, join(workDir, EMBED_OUTPUT));
  },
});
