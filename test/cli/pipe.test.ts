// `geul … | head` stops the CLI quietly (exit 0, no EPIPE stack trace), as Unix tools do when the reader goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('output piped into a reader that closes early ends quietly with exit 0', () => {
  // 20,000 answers overflow the pipe long after `head -n 1` has gone, so the CLI's writes must meet EPIPE.
  const script = `yes 'a short sentence in english' | head -n 20000 | "${process.execPath}" --import tsx src/cli/bin.ts detect --json -f - | head -n 1; echo "exit=\${PIPESTATUS[2]}" >&2`;
  const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, GEUL_NO_PROGRESS: '1' }, timeout: 120_000 });
  assert.match(run.stdout, /"language":"en"/);
  assert.doesNotMatch(run.stderr, /EPIPE|Unhandled/, run.stderr);
  assert.match(run.stderr, /exit=0/, run.stderr);
});
