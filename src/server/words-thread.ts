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

/** Loads a set and builds its unit-length scoring matrix now (so the first query does not pay for it); the raw vectors go. */
async function load(call: LoadCall): Promise<{ words: number; dim: number }> {
  const path = await resolveVectorsPath(call.path, call.hub);
  const vectors = (await readVectors(path, { limit: call.limit, format: call.format })).releaseRaw();
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

const reply = (r: WordsReply) => parentPort?.postMessage(r);
const fail = (id: number, err: unknown) => reply(isGeulError(err)
  ? { id, ok: false, code: err.code, params: err.params }
  : { id, ok: false, code: 'INTERNAL', params: {}, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) });

/** The query vector of a most_similar-style call (similar, 3CosAdd analogy), which can share a pass over the matrix. */
function plan(call: QueryCall): { v: WordVectors; mean: Float32Array; used: Set<number>; topn: number; limit: number } | undefined {
  const a = call.args as Record<string, never>;
  if (call.op !== 'similar' && !(call.op === 'analogy' && (a.method ?? 'add') === 'add')) return undefined;
  const v = sets.get(call.name);
  if (!v) throw geulError('INTERNAL');
  const [positive, negative] = call.op === 'similar' ? [a.positive ?? [], a.negative ?? []] : [[a.b, a.c], [a.a]];
  return { v, ...v.meanVector(positive, negative), topn: a.topn ?? 10, limit: v.limit(a.restrictVocab) };
}

let queue: (QueryCall & { id: number })[] = [];

/**
 * Answers every query that arrived since the last turn. most_similar-style queries on the same set are scored
 * together: the SIMD kernel scores four query vectors per pass over the matrix for about the cost of one (the pass is
 * bound by memory bandwidth), so a busy server answers several times more of them per second.
 */
function drain(): void {
  const calls = queue;
  queue = [];
  const groups = new Map<string, { id: number; p: NonNullable<ReturnType<typeof plan>> }[]>();
  for (const call of calls) {
    try {
      const p = plan(call);
      if (!p) {
        reply({ id: call.id, ok: true, value: query(call) });
        continue;
      }
      const key = `${call.name}\u0000${p.limit}`;
      groups.set(key, [...(groups.get(key) ?? []), { id: call.id, p }]);
    } catch (err) {
      fail(call.id, err);
    }
  }
  for (const group of groups.values()) {
    const { v, limit } = group[0].p;
    try {
      const scores = v.scores(group.map((g) => g.p.mean), limit);
      group.forEach((g, j) => reply({ id: g.id, ok: true, value: v.top(scores[j], g.p.used, g.p.topn) }));
    } catch (err) {
      for (const g of group) fail(g.id, err);
    }
  }
}

parentPort?.on('message', (call: WordsCall) => {
  if (call.op === 'load') {
    load(call).then((value) => reply({ id: call.id, ok: true, value }), (err: unknown) => fail(call.id, err));
    return;
  }
  if (queue.length === 0) setImmediate(drain);
  queue.push(call);
});
