// Micro-benchmark of the worker → main thread → JSON path for embeddings: structured clone of number arrays vs a
// transferred Float32Array, and JSON.stringify vs a hand-written writer. Alternating rounds; load average reported.
// Usage: npx tsx bench/server-json.ts [--rounds 3] [--rows 32] [--dim 384]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, rows: { type: 'string', default: '32' }, dim: { type: 'string', default: '384' } } });
const rows = Number(values.rows);
const dim = Number(values.dim);
const packed = new Float32Array(rows * dim).map(() => Math.fround((Math.random() - 0.5) * 0.2));
// What the worker returns today: one number array per text, float32 values as doubles.
const vectors = Array.from({ length: rows }, (_, r) => Array.from(packed.subarray(r * dim, (r + 1) * dim)));
const { port1, port2 } = new MessageChannel();
const hop = <T>(value: T, transfer?: ArrayBuffer[]): T => {
  port1.postMessage(value, transfer ?? []);
  return receiveMessageOnPort(port2)!.message as T;
};
const answer = (embeddings: unknown[]) => ({ object: 'list', data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } });
const rowOf = (data: Float32Array, r: number) => data.subarray(r * dim, (r + 1) * dim);

/** Each variant: worker-to-main hop of one batch, then the JSON text of the answer. Returns its length. */
const variants: Record<string, () => number> = {
  'clone number[][] + JSON.stringify (today)': () => JSON.stringify(answer(hop(vectors))).length,
  'transfer Float32Array + Array.from + JSON.stringify': () => {
    const copy = new Float32Array(packed);
    const data = hop(copy, [copy.buffer]);
    return JSON.stringify(answer(Array.from({ length: rows }, (_, r) => Array.from(rowOf(data, r))))).length;
  },
  'transfer Float32Array + hand-written writer (join)': () => {
    const copy = new Float32Array(packed);
    return writeAnswer(hop(copy, [copy.buffer])).length;
  },
};

/** The answer's JSON written by hand from the float32 rows (a typed array's join prints each value as JSON would). */
function writeAnswer(data: Float32Array): string {
  let text = '{"object":"list","data":[';
  for (let r = 0; r < rows; r++) text += `${r ? ',' : ''}{"object":"embedding","index":${r},"embedding":[${rowOf(data, r).join(',')}]}`;
  return `${text}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`;
}

const reference = JSON.stringify(answer(vectors));
process.stdout.write(`hand-written text equals JSON.stringify's: ${writeAnswer(packed) === reference} (${(reference.length / rows).toFixed(0)} bytes per vector)\n`);
const results = new Map<string, number[]>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, run] of Object.entries(variants)) {
    for (let i = 0; i < 20; i++) run();
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 1000) { run(); n++; }
    const perVector = ((performance.now() - start) * 1000) / (n * rows);
    results.set(name, [...(results.get(name) ?? []), perVector]);
    process.stdout.write(`round ${round} · ${name}: ${perVector.toFixed(1)} µs per vector · load ${loadavg()[0].toFixed(1)}\n`);
  }
}
const base = Math.min(...results.get('clone number[][] + JSON.stringify (today)')!);
for (const [name, times] of results) process.stdout.write(`best of rounds · ${name}: ${Math.min(...times).toFixed(1)} µs per vector (${(Math.min(...times) / base).toFixed(2)}× today)\n`);
