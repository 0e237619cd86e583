// Writes every fixture model once per test process into a temp folder (removed at exit) and returns its path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtures } from '../../src/fixtures/index.js';

let pending: Promise<string> | undefined;

export function fixturesDir(): Promise<string> {
  pending ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geul-fixtures-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await writeFixtures(dir);
    return dir;
  })();
  return pending;
}
