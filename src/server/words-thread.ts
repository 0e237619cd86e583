// The word-vector thread (worker_threads entry): loads the server's vector sets and answers queries off the event loop.
import { parentPort } from 'node:worker_threads';
import { geulError, isGeulError } from '../core/errors.js';
import type { HubConfig } from '../core/hub.js';
import { readVectors, type ReadOptions } from '../words/formats.js';
import { resolveVectorsPath } from '../words/source.js';
import type { ScreenQuery } from '../words/screen.js';
import { normalize, type WordVectors } from '../words/vectors.js';

export interface LoadCall { op: 'load'; name: string; path: string; limit?: number; format?: ReadOptions['format']; hub: HubConfig }
export interface QueryCall { op: 'similar' | 'analogy' | 'similarity' | 'odd' | 'nearest' | 'vectors'; name: string; args: Record<string, unknown> }
export type WordsCall = (LoadCall | QueryCall) & { id: number };
export type WordsReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; params: Record<string, string | number | undefined>; detail?: string };

const sets = new Map<string, WordVectors>();

/**
 * Loads a set and builds its unit-length scoring matrix and int8 screening index now (so the first query does not pay
 * for them); the raw vectors go.
 */
async function load(call: LoadCall): Promise<{ words: number; dim: number; screened: boolean }> {
  const path = await resolveVectorsPath(call.path, call.hub);
  const vectors = (await readVectors(path, { limit: call.limit, format: call.format })).releaseRaw();
  // Without the index (ONNX Runtime failed to start) queries are still answered, exactly, by full passes.
  const screened = await vectors.prepareSearch().then(() => true, () => false);
  sets.set(call.name, vectors);
  return { words: vectors.size, dim: vectors.dim, screened };
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
    case 'vectors':
      // Unit length: the server keeps only the normalised rows (releaseRaw), which is also the geometry cosine sees.
      return (a.words as string[]).map((word) => (v.has(word) ? { word, vector: Array.from(v.unitRow(v.indexOf(word))) } : { word, vector: null }));
    default:
      throw geulError('INTERNAL');
  }
}

const reply = (r: WordsReply) => parentPort?.postMessage(r);
const fail = (id: number, err: unknown) => reply(isGeulError(err)
  ? { id, ok: false, code: err.code, params: err.params }
  : { id, ok: false, code: 'INTERNAL', params: {}, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) });

/** The search query of a call answered by a top-k cosine search (similar, 3CosAdd analogy, nearest), which can share a pass. */
function plan(call: QueryCall): { v: WordVectors; query: ScreenQuery } | undefined {
  const a = call.args as Record<string, never>;
  const v = sets.get(call.name);
  if (!v) throw geulError('INTERNAL');
  if (call.op === 'nearest') {
    if ((a.vector as number[]).length !== v.dim) return undefined; // query() reports the mismatch
    const vector = Float32Array.from(a.vector as number[]);
    normalize(vector);
    const exclude = new Set(((a.exclude ?? []) as string[]).map((w) => v.indexOf(w)));
    return { v, query: { vector, exclude, topn: a.topn ?? 10, limit: v.size } };
  }
  if (call.op !== 'similar' && !(call.op === 'analogy' && (a.method ?? 'add') === 'add')) return undefined;
  const [positive, negative] = call.op === 'similar' ? [a.positive ?? [], a.negative ?? []] : [[a.b, a.c], [a.a]];
  return { v, query: v.similarQueries([{ positive, negative, topn: a.topn, restrictVocab: a.restrictVocab }])[0] };
}

/** Most queries one pass answers (the pass grows with them; more wait for the next). */
const MAX_GROUP = 32;
let queue: (QueryCall & { id: number })[] = [];
let draining = false;

/**
 * Answers every query that arrived since the last pass. Top-k queries on the same set are searched together: one
 * screening pass (or SIMD pass) serves all of them for little more than the cost of one, so while a pass runs the
 * next queries gather and a busy server answers many more per second.
 */
async function drain(): Promise<void> {
  while (queue.length > 0) {
    const calls = queue;
    queue = [];
    const groups = new Map<WordVectors, { id: number; query: ScreenQuery }[]>();
    for (const call of calls) {
      try {
        const p = plan(call);
        if (!p) {
          reply({ id: call.id, ok: true, value: query(call) });
          continue;
        }
        groups.set(p.v, [...(groups.get(p.v) ?? []), { id: call.id, query: p.query }]);
      } catch (err) {
        fail(call.id, err);
      }
    }
    for (const [v, group] of groups) {
      for (let i = 0; i < group.length; i += MAX_GROUP) {
        const part = group.slice(i, i + MAX_GROUP);
        try {
          const answers = await v.search(part.map((g) => g.query));
          part.forEach((g, j) => reply({ id: g.id, ok: true, value: answers[j] }));
        } catch (err) {
          for (const g of part) fail(g.id, err);
        }
      }
    }
  }
  draining = false;
}

parentPort?.on('message', (call: WordsCall) => {
  if (call.op === 'load') {
    load(call).then((value) => reply({ id: call.id, ok: true, value }), (err: unknown) => fail(call.id, err));
    return;
  }
  queue.push(call);
  if (draining) return;
  draining = true;
  setImmediate(() => void drain());
});
