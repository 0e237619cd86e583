// The chunked batch file runner on its own, with a plain per-row function: a chunk written twice (the state rewound
// after its append) gives the same output, a changed input starts over, text files keep every line (CRLF, no final
// newline), a chunk with the wrong number of results fails, a text the task refuses names its row, and nothing is
// published before every row is in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectBatchFormat, partialName, runBatchFile, type BatchFileJob } from '../../src/jobs/batch-file.js';
import { classifyTask } from '../../src/tasks/classify.js';
import { MAX_TEXT_CHARS } from '../../src/tasks/common.js';

const work = mkdtempSync(join(tmpdir(), 'geul-batch-file-'));
const OUTPUT = 'out.jsonl';

/** A job whose per-row result is the text upper-cased; `calls` counts the chunks processed. */
function job(input: string, options: Partial<BatchFileJob> = {}): BatchFileJob & { calls: number[] } {
  const calls: number[] = [];
  return {
    input, text: 'text', chunkSize: 3, output: OUTPUT, allowEmpty: true, calls, ...options,
    async process(rows) {
      calls.push(rows[0].index);
      return rows.map((r) => ({ upper: r.text.toUpperCase() }));
    },
  };
}

const run = (dir: string, j: BatchFileJob, resume = false) => {
  mkdirSync(dir, { recursive: true });
  return runBatchFile(j, { signal: new AbortController().signal, emit: () => {}, workDir: dir, resume });
};
const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; upper: string; id?: unknown });
const stateOf = (dir: string) => JSON.parse(readFileSync(join(dir, `.${OUTPUT}.state.json`), 'utf8')) as { rows: number; bytes: number };

test('text files: one row per line, CRLF and a missing final newline handled; .txt is detected as text', async () => {
  const input = join(work, 'lines.txt');
  writeFileSync(input, 'one\r\ntwo\r\n\r\nfour');
  assert.equal(await detectBatchFormat(input), 'text');
  const dir = join(work, 'text');
  await run(dir, job(input, { id: 'line' }));
  assert.deepEqual(lines(join(dir, OUTPUT)).map((l) => [l.index, l.id, l.upper]), [[0, 1, 'ONE'], [1, 2, 'TWO'], [2, 3, ''], [3, 4, 'FOUR']]);
});

test('a chunk written twice (a crash after its append, before its commit) appears once', async () => {
  const input = join(work, 'rows.jsonl');
  writeFileSync(input, Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `row ${i}` })).join('\n'));
  const whole = join(work, 'whole');
  await run(whole, job(input));
  const dir = join(work, 'twice');
  await run(dir, job(input));
  // Rewind the commit to row 6 as if the last two chunks were appended but never committed, and unpublish.
  const full = readFileSync(join(dir, OUTPUT));
  const committed = lines(join(dir, OUTPUT)).slice(0, 6).map((l) => `${JSON.stringify(l)}\n`).join('');
  writeFileSync(join(dir, partialName(OUTPUT)), full);
  writeFileSync(join(dir, `.${OUTPUT}.state.json`), JSON.stringify({ ...stateOf(dir), rows: 6, bytes: Buffer.byteLength(committed) }));
  rmSync(join(dir, OUTPUT));
  const again = job(input);
  await run(dir, again, true);
  assert.deepEqual(again.calls, [6, 9], 'only the uncommitted chunks ran again');
  assert.equal(readFileSync(join(dir, OUTPUT), 'utf8'), readFileSync(join(whole, OUTPUT), 'utf8'));
});

test('a resume against a changed input starts over; a finished output is left alone', async () => {
  const input = join(work, 'changing.jsonl');
  writeFileSync(input, ['a', 'b', 'c', 'd'].map((text) => JSON.stringify({ text })).join('\n'));
  const dir = join(work, 'changing');
  await run(dir, job(input));
  const rerun = job(input);
  await run(dir, rerun, true);
  assert.deepEqual(rerun.calls, [], 'finished: nothing runs again');
  writeFileSync(input, ['a', 'b', 'c', 'd', 'e'].map((text) => JSON.stringify({ text })).join('\n'));
  const changed = job(input);
  await run(dir, changed, true);
  assert.deepEqual(changed.calls, [0, 3]);
  assert.deepEqual(lines(join(dir, OUTPUT)).map((l) => l.upper), ['A', 'B', 'C', 'D', 'E']);
});

test('a chunk with the wrong number of results fails and publishes nothing; empty texts follow allowEmpty', async () => {
  const input = join(work, 'short.jsonl');
  writeFileSync(input, '{"text": "x"}\n{"text": ""}\n');
  const dir = join(work, 'wrong');
  await assert.rejects(run(dir, { ...job(input), process: async () => [] }), /gave 0 results|Internal/);
  assert.ok(!existsSync(join(dir, OUTPUT)));
  await assert.rejects(run(join(work, 'empty'), job(input, { allowEmpty: false })), (err: Error & { code?: string }) => err.code === 'DATA_EMPTY_TEXT' && /line 2/.test(err.message));
  // A text the task's item schema refuses names its row, before any chunk runs.
  const long = join(work, 'long.jsonl');
  writeFileSync(long, `{"text": "fine"}\n${JSON.stringify({ text: 'x'.repeat(MAX_TEXT_CHARS + 1) })}\n`);
  const strict = job(long, { item: classifyTask.item });
  await assert.rejects(run(join(work, 'long'), strict), (err: Error & { code?: string }) => err.code === 'DATA_INVALID' && /line 2/.test(err.message) && /100001 characters/.test(err.message));
  assert.deepEqual(strict.calls, []);
});

test('a window of whole chunks goes to process at once and is committed at once; a cancel keeps whole windows', async () => {
  const input = join(work, 'window.jsonl');
  writeFileSync(input, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `w${i}` })).join('\n'));
  const dir = join(work, 'window');
  const windowed = job(input, { window: 7 }); // rounded up to 3 chunks of 3 rows
  const seen: number[] = [];
  const steps: number[] = [];
  const controller = new AbortController();
  mkdirSync(dir, { recursive: true });
  await assert.rejects(runBatchFile({ ...windowed, async process(rows, signal) { seen.push(rows.length); return windowed.process(rows, signal); } }, {
    signal: controller.signal, workDir: dir, resume: false,
    emit: (e) => { if (e.kind === 'progress') { steps.push(e.step); if (e.step === 9) controller.abort(); } },
  }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  // The second window (rows 9–17) may already compute while the first one commits: it is never written.
  assert.equal(windowed.calls[0], 0);
  assert.equal(seen[0], 9);
  assert.deepEqual(steps, [0, 9], 'one commit (and one progress event) per window; the cancel stops before the next');
  assert.equal(stateOf(dir).rows, 9);
  assert.equal(lines(join(dir, partialName(OUTPUT))).length, 9, 'nothing after the committed window');
  const resumed = job(input, { window: 7 });
  const resumedSteps: number[] = [];
  mkdirSync(dir, { recursive: true });
  await runBatchFile(resumed, { signal: new AbortController().signal, workDir: dir, resume: true, emit: (e) => { if (e.kind === 'progress') resumedSteps.push(e.step); } });
  assert.deepEqual(resumed.calls, [9, 18], 'the resume starts at the committed window boundary');
  assert.deepEqual(resumedSteps, [9, 18, 20]);
  assert.deepEqual(lines(join(dir, OUTPUT)).map((l) => [l.index, l.upper]), Array.from({ length: 20 }, (_, i) => [i, `W${i}`]));
});

test('a crash between window commits (a window appended, its state not written): every row exactly once on resume', async () => {
  const input = join(work, 'crash.jsonl');
  writeFileSync(input, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `c${i}` })).join('\n'));
  const whole = join(work, 'crash-whole');
  await run(whole, job(input, { window: 6 }));
  const dir = join(work, 'crash');
  const first = job(input, { window: 6 });
  // The run stops dead right after committing window 1 (its progress event throws, so nothing more is written); then,
  // as if it had lived on into window 2's commit and died after the append, window 2's lines and a torn line follow.
  mkdirSync(dir, { recursive: true });
  const died = new Error('killed');
  await assert.rejects(runBatchFile(first, { signal: new AbortController().signal, workDir: dir, resume: false, emit: (e) => { if (e.kind === 'progress' && e.step === 6) throw died; } }), (err) => err === died);
  assert.equal(stateOf(dir).rows, 6, 'the first window is committed');
  const full = readFileSync(join(whole, OUTPUT), 'utf8').split('\n');
  writeFileSync(join(dir, partialName(OUTPUT)), `${full.slice(0, 12).join('\n')}\n{"index": 12, "upp`); // window 2 and a torn line of window 3
  const again = job(input, { window: 6 });
  await run(dir, again, true);
  assert.deepEqual(again.calls, [6, 12, 18], 'everything after the last committed window runs again');
  assert.equal(readFileSync(join(dir, OUTPUT), 'utf8'), readFileSync(join(whole, OUTPUT), 'utf8'), 'every row exactly once, in input order');
});
