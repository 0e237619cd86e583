// The word-vector thread (worker_threads entry): loads the server's vector sets and answers queries off the event loop.
import { parentPort } from 'node:worker_threads';
import { geulError, isGeulError } from '../core/errors.js';
import type { HubConfig } from '../core/hub.js';
import { readVectors, type ReadOptions } from '../words/formats.js';
import { resolveVectorsPath } from '../words/source.js';
import type { WordVectors } from '../words/vectors.js';

export interface LoadCall { op: 'load'; name: string; path: string; limit?: number; format?: ReadOptions['format']; hub: HubConfig }
export interface QueryCall { op: 'similar' | 'analogy' | 'similarity' | 'odd' | 'nearest'; name: string; args: Record<string, unknown> }
export type WordsCall = (LoadCall | QueryCall) & { id: number };
export type WordsReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; params: Record<string, string | number | undefined>; detail?: string };

const sets = new Map<string, WordVectors>();

/** Loads a set and builds its unit-length scoring matrix now, so the first query does not pay for it. */
async function load(call: LoadCall): Promise<{ words: number; dim: number }> {
  const path = await resolveVectorsPath(call.path, call.hub);
  const vectors = await readVectors(path, { limit: call.limit, format: call.format });
  vectors.unitRow(0);
  sets.set(call.name, vectors);
  return { words: vectors.size, dim: vectors.dim };
}

function query(call: QueryCall): unknown {
  const v = sets.get(call.name);
  if (!v) throw geulError('INTERNAL');
  const a = call.args as Record<string, never>;
  switch (call.op) {
    case 'similar':
      return v.mostSimilar({ positive: a.positive, negative: a.negative, topn: a.topn, restrictVocab: a.restrictVocab });
    case 'analogy':
      return v.analogy(a.a, a.b, a.c, { method: a.method, topn: a.topn, restrictVocab: a.restrictVocab });
    case 'similarity':
      return v.similarity(a.a, a.b);
    case 'odd':
      return v.doesntMatch(a.words);
    case 'nearest':
      return v.nearest(a.vector, a.topn, a.exclude);
    default:
      throw geulError('INTERNAL');
  }
}

parentPort?.on('message', (call: WordsCall) => {
  const reply = (r: WordsReply) => parentPort?.postMessage(r);
  const fail = (err: unknown) => reply(isGeulError(err)
    ? { id: call.id, ok: false, code: err.code, params: err.params }
    : { id: call.id, ok: false, code: 'INTERNAL', params: {}, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) });
  if (call.op === 'load') {
    load(call).then((value) => reply({ id: call.id, ok: true, value }), fail);
    return;
  }
  try {
    reply({ id: call.id, ok: true, value: query(call) });
  } catch (err) {
    fail(err);
  }
});
