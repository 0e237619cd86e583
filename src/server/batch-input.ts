// Checks a Batch API input file line by line, as each line's route would check its request (shape, limits, task
// schema, model), and writes the prepared lines the batch job runs; bad lines become error lines, never a failed batch.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { geulError, toGeulError, type GeulError } from '../core/errors.js';
import { parseWith } from '../core/schema.js';
import { BATCH_ENDPOINTS, type BatchFace, type PreparedLine } from '../jobs/batch-job.js';
import { OpenAIEmbeddingsRequest, completionsTaskRequest, toOpenAIError } from '../tasks/openai.js';
import { TASKS } from '../tasks/registry.js';
import type { Task } from '../tasks/types.js';
import { prepareTask } from './admit.js';
import type { ServerContext } from './context.js';
import type { Viewer } from './models.js';

/** OpenAI's limit on requests per batch. */
export const BATCH_MAX_LINES = 50_000;

export interface PreparedBatch { total: number; invalid: number; chars: number; tokens: number }

const TASK_OF: Record<string, Task> = { '/v1/embeddings': TASKS.embeddings, '/v1/completions': TASKS.generate, '/v1/classify': TASKS.classify, '/v1/translate': TASKS.translate };

const asRecord = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined);

/** Which answer the line's route gives: OpenAI's body on /v1/embeddings is told apart as the route does (routes-compat.ts). */
const faceOf = (url: string, body: Record<string, unknown>): BatchFace => (url === '/v1/completions' ? 'openai-completions'
  : url === '/v1/embeddings' && 'input' in body && !('inputs' in body) ? 'openai-embeddings' : 'native');

/** One line's request as its route admits it for `viewer` (whose job-made models it may name); throws the error that route would answer. */
function prepareLine(ctx: ServerContext, url: string, body: Record<string, unknown>, face: BatchFace, viewer: Viewer) {
  const task = TASK_OF[url];
  const catalog = ctx.inference.catalog;
  let raw = body;
  const shape: { dimensions?: number; encoding_format?: string } = {};
  if (face === 'openai-embeddings') {
    const parsed = parseWith(OpenAIEmbeddingsRequest, body, 'body');
    raw = { model: parsed.model, inputs: parsed.input };
    Object.assign(shape, parsed.dimensions !== undefined && { dimensions: parsed.dimensions }, parsed.encoding_format !== undefined && { encoding_format: parsed.encoding_format });
  } else if (face === 'openai-completions') raw = completionsTaskRequest(body);
  if (body.stream === true) throw geulError('INVALID_INPUT', { detail: 'body.stream: a batch line cannot stream' });
  const prepared = prepareTask(ctx, task, raw, viewer);
  const model = typeof raw.model === 'string' ? raw.model : catalog.publicName(catalog.defaultName(task));
  return { prepared, model, shape, task };
}

/**
 * Reads `input` (JSONL), writes one prepared line per request line to `output`; what the valid lines cost, for the quota.
 * Lines may name the models `viewer`'s own jobs made, as that key's requests to the routes may.
 */
export async function prepareBatchInput(ctx: ServerContext, input: string, endpoint: string, output: string, viewer: Viewer): Promise<PreparedBatch> {
  await mkdir(dirname(output), { recursive: true });
  const out = createWriteStream(output);
  const write = async (line: PreparedLine) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  const seen = new Set<string>();
  const result: PreparedBatch = { total: 0, invalid: 0, chars: 0, tokens: 0 };
  let line = 0;
  try {
    for await (const text of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      if (++result.total > BATCH_MAX_LINES) throw geulError('INVALID_INPUT', { detail: `input_file_id: a batch holds at most ${BATCH_MAX_LINES} requests` });
      let customId: string | null = null;
      let face: BatchFace | undefined;
      try {
        let request: Record<string, unknown> | undefined;
        try {
          request = asRecord(JSON.parse(text));
        } catch {
          throw geulError('INVALID_INPUT', { detail: `line ${line}: not valid JSON` });
        }
        if (!request) throw geulError('INVALID_INPUT', { detail: `line ${line}: must be a JSON object {custom_id, method, url, body}` });
        if (typeof request.custom_id !== 'string' || request.custom_id === '' || request.custom_id.length > 512) throw geulError('INVALID_INPUT', { detail: 'custom_id: must be a string of 1 to 512 characters' });
        customId = request.custom_id;
        if (seen.has(customId)) throw geulError('INVALID_INPUT', { detail: `custom_id: "${customId.slice(0, 64)}" appears on an earlier line; each request needs its own` });
        seen.add(customId);
        if (request.method !== 'POST') throw geulError('INVALID_INPUT', { detail: 'method: must be "POST"' });
        if (!BATCH_ENDPOINTS.includes(request.url as never)) throw geulError('INVALID_INPUT', { detail: `url: must be one of ${BATCH_ENDPOINTS.join(', ')}` });
        if (request.url !== endpoint) throw geulError('INVALID_INPUT', { detail: `url: "${String(request.url)}" is not the batch's endpoint ${endpoint}` });
        const body = asRecord(request.body);
        if (!body) throw geulError('INVALID_INPUT', { detail: 'body: must be a JSON object (the request of the url)' });
        face = faceOf(endpoint, body);
        const { prepared, model, shape, task } = prepareLine(ctx, endpoint, body, face, viewer);
        result.chars += prepared.chars;
        result.tokens += prepared.tokens;
        await write({ line, custom_id: customId, run: { task: task.id, face, items: prepared.items, single: prepared.single, options: prepared.options, model, shape }, cost: { chars: prepared.chars, tokens: prepared.tokens } });
      } catch (err) {
        const error = toGeulError(err);
        result.invalid++;
        // A line that reached its route's checks gets that route's answer; one that never named a request gets none.
        const response = face !== undefined ? answerOf(error, face) : null;
        await write({ line, custom_id: customId, error: { code: error.code, message: error.message }, response });
      }
    }
    out.end();
    await once(out, 'close');
  } catch (err) {
    out.destroy();
    await rm(output, { force: true });
    throw err;
  }
  return result;
}

function answerOf(error: GeulError, face: BatchFace): { status_code: number; body: unknown } {
  if (face === 'native') return { status_code: error.status, body: error.toJSON() };
  const openAI = toOpenAIError(error);
  return { status_code: openAI.status, body: openAI.body };
}
