// The one way tests and benchmarks find ../shared/data; tests skip with a clear message when it is absent.
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type { TestContext } from 'node:test';

/** Absolute path of the shared data folder (GEUL_SHARED_DATA overrides), or undefined if missing. */
export function sharedDataDir(): string | undefined {
  const dir = resolve(process.env.GEUL_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
  return existsSync(dir) ? dir : undefined;
}

/** Path of a shared data file, or skips the current test saying what is missing. */
export function sharedDataPath(t: TestContext, ...parts: string[]): string | undefined {
  const dir = sharedDataDir();
  const path = dir ? join(dir, ...parts) : undefined;
  if (!path || !existsSync(path)) {
    t.skip(`shared test data not found: ../shared/data/${parts.join('/')} (set GEUL_SHARED_DATA to its folder)`);
    return undefined;
  }
  return path;
}
