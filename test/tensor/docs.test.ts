// Runs every ```ts snippet of docs/tensors.md; a line `expr; // → value` asserts that the awaited expr equals value.
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const DOC = resolve('docs', 'tensors.md');
const INDEX = pathToFileURL(resolve('src', 'index.ts')).href;
const CHECK = pathToFileURL(resolve('test', 'tensor', 'grad-check.ts')).href;

interface Snippet { line: number; code: string }

function snippets(): Snippet[] {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) {
      const m = /^(\s*)(.+?);\s*\/\/ → (.+)$/.exec(lines[i]);
      body.push(m ? `${m[1]}__check(await (${m[2]}), ${m[3]}, ${i + 1});` : lines[i]);
    }
    out.push({ line: start, code: body.join('\n') });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'geul-docs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const [n, s] of snippets().entries()) {
  test(`docs/tensors.md snippet ${n + 1} (line ${s.line}) runs and prints what it says`, async () => {
    const file = join(dir, `snippet-${n}.mts`);
    const header = [
      `import { assertClose as __close } from '${CHECK}';`,
      `const __check = (actual: unknown, expected: unknown, line: number) => {`,
      `  try { __close(actual, expected, 1e-4); } catch (err) { throw new Error(\`docs/tensors.md line \${line}: \${(err as Error).message}\`); }`,
      `};`,
    ].join('\n');
    writeFileSync(file, `${header}\n${s.code.replaceAll("from 'geul'", `from '${INDEX}'`)}\nexport {};\n`);
    await import(pathToFileURL(file).href);
  });
}
