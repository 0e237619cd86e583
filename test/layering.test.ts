// Keeps imports flowing one way: core → graph → runtime → tensor → tasks/words → train → store → server/cli/web.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ORDER = ['core', 'graph', 'runtime', 'tensor', 'fixtures', 'tasks', 'words', 'train', 'store', 'jobs', 'server', 'cli', 'web'];
/** Layers that may not import each other even though neither is "above" the other. */
const SIBLINGS: Record<string, string[]> = { server: ['cli', 'web'], cli: ['web'], web: ['cli'], fixtures: ['tasks', 'words'] };

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.tsx?$/.test(name) && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('src layers import only downwards', () => {
  const src = resolve('src');
  const violations: string[] = [];
  for (const file of sources(src)) {
    const layer = relative(src, file).split('/')[0];
    const rank = ORDER.indexOf(layer);
    if (rank < 0) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
      const target = relative(src, resolve(dirname(file), m[1])).split('/')[0];
      const targetRank = ORDER.indexOf(target);
      if (targetRank < 0 || target === layer) continue;
      if (targetRank > rank || SIBLINGS[layer]?.includes(target)) violations.push(`${relative(src, file)} imports ${target}/`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the web UI imports no other layer: it reaches the server only over the public HTTP API', () => {
  const web = resolve('src', 'web');
  const reaching: string[] = [];
  for (const file of sources(web)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      if (relative(web, resolve(dirname(file), m[1])).startsWith('..')) reaching.push(`${relative(web, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(reaching, []);
});
