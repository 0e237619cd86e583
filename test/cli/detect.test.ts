// `geul detect`: the registry's built-in detector on the command line (no model, no --model), text and --json output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLines, runCli } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'geul-cli-detect-'));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json'), GEUL_OFFLINE: '1' };
writeFileSync(env.GEUL_CONFIG, '{}');

test('geul detect prints the best languages per text, --json one list per line, offline with no model', async () => {
  const r = await runCli(['detect', '--top-k', '1', 'Où est la gare ? Je dois prendre le train.', '역이 어디예요? 서울역에 가야 해요.'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((line) => line.split('\t')[0]), ['fr', 'ko']);
  const json = await runCli(['detect', '--json', 'Wo ist der Bahnhof? Ich muss den Zug nehmen.'], { env });
  assert.equal(json.code, 0, json.stderr);
  const [candidates] = jsonLines(json.stdout) as { language: string; confidence: number }[][];
  assert.equal(candidates[0].language, 'de');
  const help = await runCli(['detect', '--help'], { env });
  assert.doesNotMatch(help.stdout, /--model/);
  assert.match(help.stdout, /no model to download/);
});
