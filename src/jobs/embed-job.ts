// The batch `embed` job: a JSONL/CSV/TSV/Parquet/text file of texts → embeddings.jsonl, one line per input row in
// input order, written in chunks by the batch file runner; after a crash it resumes after the last finished chunk.
import { Type } from '../core/schema.js';
import { ModelStore } from '../runtime/models.js';
import { embedTask } from '../tasks/embeddings.js';
import { runTask } from '../tasks/run.js';
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
}, { additionalProperties: false });

export const embedJob = defineJobType({
  id: 'embed',
  description: 'Embed every text of a file into embeddings.jsonl ({"index", "id"?, "embedding"} per row, in input order)',
  params: EmbedParams,
  fileFields: ['input'],
  modelFields: { model: 'embeddings' },
  async run(params, context) {
    const models = new ModelStore(context.config);
    await runBatchFile({
      ...params, output: EMBED_OUTPUT, allowEmpty: false, item: embedTask.item,
      async process(rows, signal) {
        const vectors = await runTask(embedTask, { model: params.model, inputs: rows.map((r) => r.text), pooling: params.pooling, normalize: params.normalize }, { models, signal }) as number[][];
        return vectors.map((embedding) => ({ embedding }));
      },
    }, context);
  },
});
