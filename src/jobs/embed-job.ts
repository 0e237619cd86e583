// The batch `embed` job: a JSONL/CSV/TSV/Parquet/text file of texts → embeddings.jsonl, one line per input row in
// input order, committed a window at a time by the batch file runner, which resumes after the last commit.
// With vectorFormat bin/txt it also writes vectors.bin/.txt, keyed by row id, a file `geul serve --vectors` loads.
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { ModelStore } from '../runtime/models.js';
import { embedTask } from '../tasks/embeddings.js';
import { runTask } from '../tasks/run.js';
import { writeVectors } from '../words/formats.js';
import { WordVectors } from '../words/vectors.js';
import { BatchInputFields, partialName, runBatchFile } from './batch-file.js';
import { defineJobType } from './job-type.js';

export const EMBED_OUTPUT = 'embeddings.jsonl';
/** The output while it grows (hidden, so not an artifact): renamed to EMBED_OUTPUT once every row is in. */
export const EMBED_PARTIAL = partialName(EMBED_OUTPUT);

export const EmbedParams = Type.Object({
  ...BatchInputFields,
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Embedding model (as for POST /v1/embeddings)' })),
  pooling: Type.Enum(['mean', 'cls'], { default: 'mean' }),
  normalize: Type.Boolean({ default: true }),
  vectorFormat: Type.Enum(['jsonl', 'bin', 'txt'], {
    default: 'jsonl',
    description: 'jsonl: embeddings.jsonl only; bin/txt: also vectors.bin/vectors.txt (word2vec format, keyed by the row\'s "id", else its index; whitespace in keys becomes "_"), loadable with geul serve --vectors',
  }),
}, { additionalProperties: false });

/** The vector file a vectorFormat other than jsonl adds to embeddings.jsonl. */
export const vectorsFileName = (format: 'bin' | 'txt') => `vectors.${format}`;

/**
 * Writes the finished embeddings.jsonl as a word2vec vector file keyed by each row's id (its index without an id
 * column), through a hidden partial renamed at the end, so a crash never leaves half a file and a rerun rewrites it.
 */
async function writeEmbeddingVectors(workDir: string, format: 'bin' | 'txt', keyedById: boolean): Promise<void> {
  const source = join(workDir, EMBED_OUTPUT);
  const keys: string[] = [];
  const rows: number[][] = [];
  for await (const line of createInterface({ input: createReadStream(source), crlfDelay: Infinity })) {
    if (line === '') continue;
    const row = JSON.parse(line) as { index: number; id?: unknown; embedding: number[] };
    const key = keyedById ? row.id : row.index;
    if (key === undefined || key === null || String(key).trim() === '') {
      throw geulError('DATA_INVALID', { path: source, where: ` row ${row.index}`, detail: 'its "id" is empty: a vector file needs a key for every row' });
    }
    keys.push(String(key));
    rows.push(row.embedding);
  }
  const dim = rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * dim);
  rows.forEach((embedding, i) => data.set(embedding, i * dim));
  const file = join(workDir, vectorsFileName(format));
  const partial = join(workDir, partialName(vectorsFileName(format)));
  await writeVectors(partial, new WordVectors(keys, dim, data), format, { replaceSpaces: '_' });
  await rename(partial, file);
}

export const embedJob = defineJobType({
  id: 'embed',
  description: 'Embed every text of a file into embeddings.jsonl ({"index", "id"?, "embedding"} per row, in input order), and with vectorFormat bin/txt into vectors.bin/.txt',
  params: EmbedParams,
  fileFields: ['input'],
  modelFields: { model: 'embeddings' },
  async run(params, context) {
    const models = new ModelStore(context.config);
    const { vectorFormat, ...batch } = params;
    await runBatchFile({
      ...batch, output: EMBED_OUTPUT, allowEmpty: false, item: embedTask.item,
      async process(rows, signal) {
        const vectors = await runTask(embedTask, { model: params.model, inputs: rows.map((r) => r.text), pooling: params.pooling, normalize: params.normalize }, { models, signal }) as number[][];
        return vectors.map((embedding) => ({ embedding }));
      },
    }, context);
    if (vectorFormat !== 'jsonl') await writeEmbeddingVectors(context.workDir, vectorFormat, params.id !== undefined);
  },
});
