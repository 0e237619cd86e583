// The run spec: one schema bounds every number and names the option in INVALID_INPUT, on the library and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagName } from '../../src/cli/commands/train.js';
import { trainText } from '../../src/train/run.js';
import { parseTrainSpec, type TrainSpecInput } from '../../src/train/spec.js';
import { runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-spec-'));
const base = (): TrainSpecInput => ({ data: { source: 'x.tsv' }, model: { name: 'bow' }, output: { dir: join(work, 'out') } });

const invalid = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: Error & { code?: string }) => {
  assert.equal(err.code, 'INVALID_INPUT');
  assert.match(err.message, pattern);
  return true;
});

test('defaults fill every section; a full spec round-trips through JSON unchanged', () => {
  const spec = parseTrainSpec(base());
  assert.equal(spec.run.epochs, 5);
  assert.equal(spec.run.batchSize, 32);
  assert.equal(spec.optim.name, 'adam');
  assert.equal(spec.data.maxLength, 256);
  assert.equal(spec.data.text, 'text');
  assert.deepEqual(parseTrainSpec(JSON.parse(JSON.stringify(spec))), spec);
});

test('out-of-range numbers, wrong types, unknown models and unknown options name the option', () => {
  invalid(() => parseTrainSpec({ ...base(), run: { batchSize: 0 } }), /run\.batchSize must be >= 1, got 0/);
  invalid(() => parseTrainSpec({ ...base(), run: { epochs: 0 } }), /run\.epochs must be >= 1/);
  invalid(() => parseTrainSpec({ ...base(), run: { epochs: 1.5 } }), /run\.epochs must be integer/);
  invalid(() => parseTrainSpec({ ...base(), model: { name: 'bow', dropout: 1 } }), /model\.dropout must be < 1/);
  invalid(() => parseTrainSpec({ ...base(), data: { source: 'x', maxLength: 0 } }), /data\.maxLength/);
  invalid(() => parseTrainSpec({ ...base(), model: { name: 'cnn' as never } }), /model\.name must be one of bow, mlp, rnn/);
  invalid(() => parseTrainSpec({ ...base(), run: { bogus: 1 } as never }), /unknown option run\.bogus/);
  invalid(() => parseTrainSpec({ ...base(), run: { batchSize: 0 } }, flagName), /--batch-size must be >= 1/);
});

test('the library rejects --batch-size 0 and --epochs 0 before reading any data', async () => {
  for (const run of [{ batchSize: 0 }, { epochs: 0 }]) {
    await assert.rejects(trainText({ ...base(), data: { source: join(work, 'missing.tsv') }, run }), (err: Error & { code?: string }) => err.code === 'INVALID_INPUT');
  }
});

test('CLI: --batch-size 0, --epochs 0 and --dropout 2 are INVALID_INPUT naming the flag; --out that is a file is OUTPUT_INVALID', async () => {
  const data = join(work, 'toy.tsv');
  writeFileSync(data, 'text\tlabel\ngood film\tpos\nbad film\tneg\n');
  const args = ['train', '--model', 'bow', '--data', data, '--out', join(work, 'cli')];
  for (const [flag, value] of [['--batch-size', '0'], ['--epochs', '0'], ['--dropout', '2']]) {
    const r = await runCli([...args, flag, value]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${flag} must be`));
    assert.match(r.stderr, /INVALID_INPUT/);
  }
  const file = join(work, 'a-file');
  writeFileSync(file, 'not a folder');
  const r = await runCli(['train', '--model', 'bow', '--data', data, '--out', file, '--epochs', '1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /OUTPUT_INVALID/);
  assert.match(r.stderr, /is a file/);
  const under = await runCli(['train', '--model', 'bow', '--data', data, '--out', join(file, 'run'), '--epochs', '1']);
  assert.match(under.stderr, /OUTPUT_INVALID/);
});
