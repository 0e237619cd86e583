// The `batch` job behind OpenAI's Batch API: runs the request lines POST /v1/batches checked and prepared, through the
// registry tasks and OpenAI's answer shapes, in chunks; output.jsonl and errors.jsonl grow chunk by chunk and a rerun
// after a crash continues after the last committed chunk, so every custom_id is answered exactly once.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { GeulConfig } from '../core/config.js';
import { geulError, isGeulError, toGeulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { ModelStore } from '../runtime/models.js';
import { writeAtomic } from '../core/files.js';
import { countTokens } from '../tasks/chat.js';
import type { GenerateResult } from '../tasks/generate.js';
import { completionObject, embeddingList, toOpenAIError } from '../tasks/openai.js';
import { getTask } from '../tasks/registry.js';
import type { Task } from '../tasks/types.js';
import { defineJobType } from './job-type.js';

/** The routes a batch line may name, and the registry task each runs. */
export const BATCH_ENDPOINTS = ['/v1/embeddings', '/v1/completions', '/v1/classify', '/v1/translate'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];
export const BATCH_OUTPUT = 'output.jsonl';
export const BATCH_ERRORS = 'errors.jsonl';
const STATE_FILE = '.batch-state.json';
const partialOf = (name: string) => `.${name}.partial`;

/** A line's answer as the route would give it: geul's own task answer, or OpenAI's embeddings or completion object. */
export type BatchFace = 'native' | 'openai-embeddings' | 'openai-completions';

/** One input line after POST /v1/batches checked it: a validated task call, or the error it got instead. */
export type PreparedLine =
  | { line: number; custom_id: string; run: { task: string; face: BatchFace; items: unknown[]; single: boolean; options: Record<string, unknown>; model: string; shape: { dimensions?: number; encoding_format?: string } }; cost?: LineCost }
  | { line: number; custom_id: string | null; error: { code: string; message: string }; response: { status_code: number; body: unknown } | null };

/** What a line was charged to the key's quota when the batch was created, in both units. */
export interface LineCost { chars: number; tokens: number }

/**
 * How far the output is committed: lines done, both files' lengths after them, the counts OpenAI reports, and what
 * the lines that failed while running were charged (given back to the key when the job ends).
 */
export interface BatchState { lines: number; outBytes: number; errBytes: number; completed: number; failed: number; total: number; finalizingAt: number | null; refund?: LineCost }

/** Where a batch's charge went (set by POST /v1/batches in the job's run parameters, never shown to clients). */
export const BatchCharge = Type.Object({
  key: Type.String({ minLength: 1 }), day: Type.String({ minLength: 1 }), unit: Type.Enum(['chars', 'tokens']),
}, { description: 'The key, UTC day and quota unit the batch was charged to' });

export const BatchJobParams = Type.Object({
  input_file_id: Type.String({ minLength: 1, description: 'The uploaded JSONL of requests (purpose "batch")' }),
  endpoint: Type.Enum(BATCH_ENDPOINTS, { description: 'The route every line names' }),
  completion_window: Type.Literal('24h'),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 })), Type.Null()])),
  total: Type.Integer({ minimum: 0, default: 0, description: 'Request lines in the input (counted when the batch was created)' }),
  chunkSize: Type.Integer({ minimum: 1, maximum: 4096, default: 32, description: 'Lines per chunk: the unit of progress, output and resume' }),
  charge: Type.Optional(BatchCharge),
}, { additionalProperties: false });

export async function readBatchState(dir: string): Promise<BatchState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as BatchState;
  } catch {
    return undefined;
  }
}

/** A stable id per line of a job (`batch_req_…`, `req_…`): a chunk written twice says the same. */
const lineId = (job: string, line: number, prefix: string) => `${prefix}${createHash('sha256').update(`${job}:${line}`).digest('hex').slice(0, 24)}`;

interface LineAnswer { custom_id: string | null; line: number; ok?: unknown; error?: { code: string; message: string }; response?: { status_code: number; body: unknown } | null }

/** A failure of one line, answered as its route answers errors (OpenAI's shape on the OpenAI faces), naming the model
 * as the client named it, never a server path (as the server's Inference.publicErrors does). */
function failure(err: unknown, run: Runnable['run'], config: GeulConfig): Pick<LineAnswer, 'error' | 'response'> {
  const raw = toGeulError(err);
  const scrub = (text: string) => {
    let out = text.split(String(run.options.model)).join(run.model);
    for (const dir of [config.cacheDir, config.server.modelsDir]) if (dir) out = out.split(resolve(dir)).join('…');
    return out;
  };
  const params = Object.fromEntries(Object.entries(raw.params).map(([k, v]) => [k, typeof v === 'string' ? scrub(v) : v]));
  const error = geulError(raw.code, params);
  const face = run.face;
  const openAI = face === 'native' ? undefined : toOpenAIError(error);
  return { error: { code: error.code, message: error.message }, response: { status_code: openAI?.status ?? error.status, body: openAI?.body ?? error.toJSON() } };
}

type Runnable = Extract<PreparedLine, { run: unknown }>;

/** Runs one chunk's task lines: lines with the same task and options share a model call; a failed share is retried per line. */
async function runChunk(lines: Runnable[], models: ModelStore, signal: AbortSignal, jobId: string, config: GeulConfig): Promise<LineAnswer[]> {
  const answers = new Map<number, LineAnswer>();
  const groups = new Map<string, Runnable[]>();
  for (const l of lines) {
    const key = getTask(l.run.task)?.batches ? `${l.run.task}\u0000${JSON.stringify(l.run.options)}` : `line\u0000${l.line}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  const answer = async (group: Runnable[]): Promise<void> => {
    const task = getTask(group[0].run.task);
    if (!task) throw geulError('UNKNOWN_TASK', { task: group[0].run.task });
    const items = group.flatMap((l) => l.run.items);
    const results = await task.run(items, group[0].run.options, { models, signal });
    let at = 0;
    for (const l of group) {
      const mine = results.slice(at, (at += l.run.items.length));
      answers.set(l.line, { custom_id: l.custom_id, line: l.line, ok: await shape(task, l, mine, models, jobId) });
    }
  };
  for (const group of groups.values()) {
    if (signal.aborted) throw geulError('CANCELLED');
    try {
      await answer(group);
    } catch (err) {
      if (signal.aborted || (isGeulError(err) && err.code === 'CANCELLED')) throw geulError('CANCELLED');
      for (const l of group) {
        if (answers.has(l.line)) continue;
        try {
          await answer([l]);
        } catch (lineErr) {
          if (signal.aborted) throw geulError('CANCELLED');
          answers.set(l.line, { custom_id: l.custom_id, line: l.line, ...failure(lineErr, l.run, config) });
        }
      }
    }
  }
  return lines.map((l) => answers.get(l.line)!);
}

/** The body the line's route would answer with these results. */
async function shape(task: Task, l: Runnable, results: unknown[], models: ModelStore, jobId: string): Promise<unknown> {
  const { face, options, items, model, shape: fields, single } = l.run;
  if (face === 'native') return single ? results[0] : results;
  const loaded = await models.load(options.model as string, task.kind!, task.id);
  if (face === 'openai-embeddings') {
    const tokens = countTokens(loaded, items as string[], true).reduce((n, c) => n + c, 0);
    return embeddingList(results as number[][], tokens, fields, model);
  }
  // An empty prompt still feeds the model its beginning-of-text token (as the route counts).
  const prompt = Math.max(items.length, countTokens(loaded, items as string[], false).reduce((n, c) => n + c, 0));
  return completionObject(results as GenerateResult[], prompt, { id: lineId(jobId, l.line, 'cmpl-'), created: Math.floor(Date.now() / 1000), model });
}

async function* preparedLines(path: string): AsyncGenerator<PreparedLine> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const text of lines) if (text.trim() !== '') yield JSON.parse(text) as PreparedLine;
}

export const batchJob = defineJobType({
  id: 'batch',
  description: 'An OpenAI Batch API batch (create it with POST /v1/batches): output.jsonl and errors.jsonl, one line per custom_id',
  params: BatchJobParams,
  fileFields: ['input_file_id'],
  submitVia: 'POST /v1/batches',
  async run(params, { signal, emit, workDir, resume, config }) {
    const jobId = basename(workDir);
    const statePath = join(workDir, STATE_FILE);
    const saved = resume ? await readBatchState(workDir) : undefined;
    // An attempt that died while publishing finishes that; one whose partial output is gone starts over.
    if (saved?.finalizingAt) {
      await publishFiles(workDir);
      await rm(params.input_file_id, { force: true });
      return;
    }
    const previous = saved && existsSync(join(workDir, partialOf(BATCH_OUTPUT))) && existsSync(join(workDir, partialOf(BATCH_ERRORS))) ? saved : undefined;
    const state: BatchState = previous ?? { lines: 0, outBytes: 0, errBytes: 0, completed: 0, failed: 0, total: params.total, finalizingAt: null };
    if (!previous) await writeAtomic(statePath, JSON.stringify(state));
    emit({ kind: 'progress', step: state.lines, total: state.total });
    const models = new ModelStore(config);
    // Whatever an interrupted attempt appended after its last committed chunk is cut off here, then written again.
    const out = await open(join(workDir, partialOf(BATCH_OUTPUT)), previous ? 'r+' : 'w');
    const err = await open(join(workDir, partialOf(BATCH_ERRORS)), previous ? 'r+' : 'w');
    const publish = async () => {
      await out.close();
      await err.close();
      await publishFiles(workDir);
    };
    try {
      await out.truncate(state.outBytes);
      await err.truncate(state.errBytes);
      let chunk: PreparedLine[] = [];
      let index = 0;
      const flush = async () => {
        if (signal.aborted) throw geulError('CANCELLED');
        const runnable = chunk.filter((l): l is Runnable => 'run' in l);
        const ran = new Map((await runChunk(runnable, models, signal, jobId, config)).map((a) => [a.line, a]));
        let outText = '';
        let errText = '';
        for (const l of chunk) {
          const a: LineAnswer = 'run' in l ? ran.get(l.line)! : { custom_id: l.custom_id, line: l.line, error: l.error, response: l.response };
          const id = lineId(jobId, l.line, 'batch_req_');
          const requestId = lineId(jobId, l.line, 'req_');
          if (a.error === undefined) {
            outText += `${JSON.stringify({ id, custom_id: a.custom_id, response: { status_code: 200, request_id: requestId, body: a.ok }, error: null })}\n`;
            state.completed++;
          } else {
            // A line that was charged (it passed the checks) but got no answer while running costs nothing.
            if ('run' in l && l.cost) {
              state.refund = { chars: (state.refund?.chars ?? 0) + l.cost.chars, tokens: (state.refund?.tokens ?? 0) + l.cost.tokens };
            }
            errText += `${JSON.stringify({ id, custom_id: a.custom_id, response: a.response ? { ...a.response, request_id: requestId } : null, error: a.error })}\n`;
            state.failed++;
          }
        }
        await commit(out, outText, state.outBytes);
        await commit(err, errText, state.errBytes);
        state.outBytes += Buffer.byteLength(outText);
        state.errBytes += Buffer.byteLength(errText);
        state.lines += chunk.length;
        await writeAtomic(statePath, JSON.stringify(state));
        chunk = [];
        emit({ kind: 'progress', step: state.lines, total: state.total });
        emit({ kind: 'metrics', step: state.lines, values: { completed: state.completed, failed: state.failed } });
      };
      for await (const line of preparedLines(params.input_file_id)) {
        if (index++ < state.lines) continue;
        chunk.push(line);
        if (chunk.length >= params.chunkSize) await flush();
      }
      if (chunk.length > 0) await flush();
      state.finalizingAt = Date.now();
      await writeAtomic(statePath, JSON.stringify(state));
    } catch (error) {
      // A cancelled batch keeps what it answered (OpenAI's files of a cancelled batch): the committed chunks, published.
      if (isGeulError(error) && error.code === 'CANCELLED') {
        await out.truncate(state.outBytes);
        await err.truncate(state.errBytes);
        await publish();
      } else {
        await out.close();
        await err.close();
      }
      throw error;
    }
    await publish();
    // The prepared copy of the input was this batch's alone.
    await rm(params.input_file_id, { force: true });
  },
});

/**
 * What to give back to the key a finished batch was charged to: the charges of its lines that failed while running
 * (from the committed state, so each line counts once however often its chunk ran). Undefined when nothing is due.
 */
export async function batchRefund(runParams: Record<string, unknown>, workDir: string): Promise<{ key: string; day: string; amount: number } | undefined> {
  const charge = runParams.charge as { key: string; day: string; unit: 'chars' | 'tokens' } | undefined;
  const refund = charge && (await readBatchState(workDir))?.refund;
  const amount = refund ? refund[charge.unit] : 0;
  return charge && amount > 0 ? { key: charge.key, day: charge.day, amount } : undefined;
}

/** Renames the partial files that are there to their published names (a rerun after a crash mid-way does the rest). */
async function publishFiles(workDir: string): Promise<void> {
  for (const name of [BATCH_OUTPUT, BATCH_ERRORS]) {
    if (existsSync(join(workDir, partialOf(name)))) await rename(join(workDir, partialOf(name)), join(workDir, name));
  }
}

async function commit(file: FileHandle, text: string, at: number): Promise<void> {
  if (text === '') return;
  const bytes = Buffer.from(text);
  await file.write(bytes, 0, bytes.length, at);
  await file.sync();
}
