// The acceptance commands and CLI input modes, run as real processes against the fixture models.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../helpers/fixtures.js';
import { jsonLines, runCli } from '../helpers/cli.js';

let T: string;
const work = mkdtempSync(join(tmpdir(), 'geul-cli-'));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };

before(async () => {
  T = await fixturesDir();
  writeFileSync(env.GEUL_CONFIG, '{}');
});

test('sentiment --json prints labels with scores', async () => {
  const r = await runCli(['sentiment', '--model', `${T}/tiny-bert-sentiment`, '--json', 'a great film'], { env });
  assert.equal(r.code, 0, r.stderr);
  const [labels] = jsonLines(r.stdout) as { label: string; score: number }[][];
  assert.ok(Array.isArray(labels) && typeof labels[0].label === 'string' && typeof labels[0].score === 'number');
});

test('generate with a seed is identical on every run', async () => {
  const args = ['generate', '--model', `${T}/tiny-gpt2`, '--max-new-tokens', '8', '--seed', '7', '--json', 'hello'];
  const [a, b] = await Promise.all([runCli(args, { env }), runCli(args, { env })]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.equal(typeof (jsonLines(a.stdout)[0] as { text: string }).text, 'string');
});

test('embed prints one vector per input; similarity one score', async () => {
  const e = await runCli(['embed', '--model', `${T}/tiny-bert-embed`, '--json', 'one', 'two'], { env });
  assert.equal(e.code, 0, e.stderr);
  const vectors = jsonLines(e.stdout) as number[][];
  assert.equal(vectors.length, 2);
  assert.ok(vectors.every((v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')));
  const s = await runCli(['similarity', '--model', `${T}/tiny-bert-embed`, '--json', 'a cat', 'a dog'], { env });
  assert.equal(s.code, 0, s.stderr);
  assert.equal(typeof (jsonLines(s.stdout)[0] as { score: number }).score, 'number');
});

test('translate and fill-mask', async () => {
  const t = await runCli(['translate', '--model', `${T}/tiny-m2m100`, '--from', 'en', '--to', 'fr', '--json', 'hello'], { env });
  assert.equal(t.code, 0, t.stderr);
  assert.equal(typeof (jsonLines(t.stdout)[0] as { text: string }).text, 'string');
  const f = await runCli(['fill-mask', '--model', `${T}/tiny-bert-mlm`, '--json', 'hello [MASK] world'], { env });
  assert.equal(f.code, 0, f.stderr);
  const [cands] = jsonLines(f.stdout) as { token: string; score: number }[][];
  assert.ok(cands.length > 0 && typeof cands[0].token === 'string');
});

test('offline and not cached: one-line error, non-zero exit, no stack trace', async () => {
  const r = await runCli(['sentiment', '--model', 'someone/not-cached', 'x'], { env: { ...env, GEUL_OFFLINE: '1' } });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /offline/i);
  assert.match(r.stderr, /not cached/i);
  assert.doesNotMatch(r.stderr, /\bat .*\.(js|ts):\d+/);
});

test('files (lines and JSONL) and stdin give one JSON line per input', async () => {
  const lines = join(work, 'in.txt');
  writeFileSync(lines, 'good film\n\nbad film\n영화 최고\n');
  const jsonl = join(work, 'in.jsonl');
  writeFileSync(jsonl, '{"text":"good"}\n"bad"\n');
  const a = await runCli(['sentiment', '--model', `${T}/tiny-bert-sentiment`, '--json', '--file', lines], { env });
  assert.equal(jsonLines(a.stdout).length, 3, a.stderr);
  const b = await runCli(['sentiment', '--model', `${T}/tiny-bert-sentiment`, '--json', '--file', jsonl], { env });
  assert.equal(jsonLines(b.stdout).length, 2, b.stderr);
  const c = await runCli(['embed', '--model', `${T}/tiny-bert-embed`, '--json'], { env, input: 'one\ntwo\nthree\n' });
  assert.equal(jsonLines(c.stdout).length, 3, c.stderr);
});

test('search, similarity matrix, streaming and language list', async () => {
  const docs = join(work, 'docs.txt');
  writeFileSync(docs, 'the cat sat\nstocks fell\n영화 최고\n');
  const s = await runCli(['search', '--model', `${T}/tiny-bert-embed`, '--docs', docs, '--top-k', '2', '--json', 'stocks fell'], { env });
  assert.equal(s.code, 0, s.stderr);
  const [hits] = jsonLines(s.stdout) as { index: number }[][];
  assert.equal(hits.length, 2);
  assert.equal(hits[0].index, 1);
  const mx = await runCli(['similarity', '--model', `${T}/tiny-bert-embed`, '--matrix', '--json', 'a', 'b', 'c'], { env });
  assert.equal((jsonLines(mx.stdout)[0] as { matrix: number[][] }).matrix.length, 3, mx.stderr);
  const st = await runCli(['generate', '--model', `${T}/tiny-gpt2`, '--max-new-tokens', '5', '--stream', '--json', 'hi'], { env });
  const events = jsonLines(st.stdout) as Record<string, unknown>[];
  assert.ok(events.length >= 2 && 'finish_reason' in events[events.length - 1], st.stderr);
  const langs = await runCli(['translate', '--model', `${T}/tiny-m2m100`, '--languages', '--json'], { env });
  assert.ok((jsonLines(langs.stdout)[0] as { code: string }[]).some((l) => l.code === 'ko'), langs.stderr);
});

test('bad input is a clear error', async () => {
  const r = await runCli(['sentiment', '--model', `${T}/tiny-bert-sentiment`, '--top-k', 'zero', 'x'], { env });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /INVALID_INPUT/);
  const missing = await runCli(['sentiment', '--model', `${T}/tiny-bert-sentiment`, '--file', join(work, 'nope.txt')], { env });
  assert.match(missing.stderr, /FILE_NOT_FOUND/);
});

test('every command has --help', async () => {
  for (const cmd of ['sentiment', 'generate', 'embed', 'similarity', 'search', 'translate', 'fill-mask']) {
    const r = await runCli([cmd, '--help'], { env });
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /Examples:/, cmd);
  }
});

test('similarity scores consecutive pairs (a b c d → a~b, c~d); an odd count is a clear error', async () => {
  const model = `${T}/tiny-bert-embed`;
  const pairs = await runCli(['similarity', '--model', model, '--json', 'a cat', 'a cat', 'a cat', 'stocks fell sharply'], { env });
  assert.equal(pairs.code, 0, pairs.stderr);
  const scores = jsonLines(pairs.stdout) as { score: number }[];
  assert.equal(scores.length, 2);
  assert.ok(Math.abs(scores[0].score - 1) < 1e-5, 'a text with itself');
  assert.ok(scores[1].score < scores[0].score);
  const human = await runCli(['similarity', '--model', model, 'a cat', 'a cat', 'a cat', 'stocks fell sharply'], { env });
  assert.deepEqual(human.stdout.trim().split('\n'), scores.map((s) => s.score.toFixed(4)));
  const odd = await runCli(['similarity', '--model', model, 'a', 'b', 'c'], { env });
  assert.notEqual(odd.code, 0);
  assert.match(odd.stderr, /INVALID_INPUT/);
  assert.match(odd.stderr, /odd/);
});

test('generate prints the same text (the continuation) in plain, --stream and --json modes', async () => {
  const args = ['generate', '--model', `${T}/tiny-gpt2`, '--max-new-tokens', '6', 'hello there'];
  const [plain, streamed, json] = await Promise.all([runCli(args, { env }), runCli([...args, '--stream'], { env }), runCli([...args, '--json'], { env })]);
  for (const r of [plain, streamed, json]) assert.equal(r.code, 0, r.stderr);
  const text = (jsonLines(json.stdout)[0] as { text: string }).text;
  assert.equal(plain.stdout, `${text}\n`);
  assert.equal(streamed.stdout, `${text}\n`);
});

test('empty texts: generate starts from the beginning of text; embed refuses it', async () => {
  const gen = await runCli(['generate', '--model', `${T}/tiny-gpt2`, '--max-new-tokens', '3', '--json', ''], { env });
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(typeof (jsonLines(gen.stdout)[0] as { text: string }).text, 'string');
  const embed = await runCli(['embed', '--model', `${T}/tiny-bert-embed`, ''], { env });
  assert.notEqual(embed.code, 0);
  assert.match(embed.stderr, /INVALID_INPUT/);
});

test('a model that cannot do the task is TASK_NOT_SUPPORTED', async () => {
  const r = await runCli(['embed', '--model', `${T}/tiny-gpt2`, 'x'], { env });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /TASK_NOT_SUPPORTED/);
  assert.equal(r.stdout, '');
});
