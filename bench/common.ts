// Shared benchmark helpers: timing, medians, shared-data lookup, and writing a section of bench/README.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';

export function sharedData(...parts: string[]): string | undefined {
  const dir = resolve(process.env.GEUL_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
  const path = join(dir, ...parts);
  return existsSync(path) ? path : undefined;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), Node ${process.version}`;
}

/** Replaces (or appends) the `## title` section of bench/README.md, leaving other sections alone. */
export function writeReadmeSection(title: string, body: string): void {
  const path = resolve('bench', 'README.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nEvery number here was measured by the command shown with it, on the machine named.\n';
  const header = `## ${title}`;
  const start = text.indexOf(`\n${header}\n`);
  const section = `\n${header}\n\n${body.trim()}\n`;
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n${section}`;
  else {
    const end = text.indexOf('\n## ', start + header.length + 1);
    next = `${text.slice(0, start)}${section}${end < 0 ? '' : text.slice(end)}`;
  }
  writeFileSync(path, next);
}

/** Debian's python3, where the benchmark anchors (gensim, torch) are installed. */
export const PYTHON = '/usr/bin/python3';

/**
 * Installs Debian `packages` with apt-get when `module` does not import in Debian's python3: the benchmark anchors
 * only (gensim, torch), never a runtime or test dependency.
 */
function ensurePythonModule(module: string, packages: string[]): void {
  if (spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return;
  console.log(`installing ${packages.join(' ')} (for this benchmark only)…`);
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit' });
}

export function ensureGensim(): void {
  ensurePythonModule('gensim', ['python3-gensim']);
}

/** torch with the OpenMP OpenBLAS, as the training benchmarks measure it. */
export function ensureTorch(): void {
  ensurePythonModule('torch', ['python3-torch', 'libopenblas0-openmp']);
}
