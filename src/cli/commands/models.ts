// `geul models pull|list|info|rm`: download hub models into the cache and inspect or remove what is cached.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { createInterface } from 'node:readline/promises';
import { geulError } from '../../core/errors.js';
import { pullModel, type DownloadProgress, type PullResult } from '../../core/hub.js';
import { cachedModelInfo, listCachedModels, removeCachedModel, type CachedModel } from '../../core/cache.js';
import { configFromCommand, printJson, type GlobalFlags } from '../context.js';

/** 1234567 → "1.2 MB" (powers of 1000, like the Hub shows sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Per-file byte bars on stderr (only on a terminal, and not with GEUL_NO_PROGRESS); `geul export` shows its downloads with them too. */
export function downloadBars(): { onProgress?: (p: DownloadProgress) => void; stop(): void } {
  if (!process.stderr.isTTY || process.env.GEUL_NO_PROGRESS) return { stop() {} };
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | {done}/{size} | {file}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress(p) {
      const total = p.total ?? Math.max(p.received, 1);
      const payload = { file: p.file, done: formatBytes(p.received), size: p.total === undefined ? '?' : formatBytes(p.total) };
      let bar = bars.get(p.file);
      if (!bar) {
        bar = multi.create(total, p.received, payload);
        bars.set(p.file, bar);
      }
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(p.received, payload);
    },
    stop() {
      multi.stop();
    },
  };
}

function pullSummary(r: PullResult): string {
  const fetched = r.files.filter((f) => f.downloaded).length;
  const commit = r.sha ? `, commit ${r.sha.slice(0, 7)}` : '';
  return `${r.id} (revision ${r.revision}${commit}, dtype ${r.dtype}): ${r.files.length} files, ${formatBytes(r.totalSize)}`
    + ` (${fetched} downloaded, ${formatBytes(r.downloadedBytes)}; ${r.files.length - fetched} already cached) in ${r.dir}`;
}

function modelLine(m: CachedModel): Record<string, unknown> {
  return {
    id: m.id,
    dir: m.dir,
    totalSize: m.totalSize,
    revisions: m.revisions.map((r) => ({ revision: r.revision, sha: r.sha, files: r.files.length, size: r.totalSize, updatedAt: r.updatedAt })),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** The --revision the user typed (not the configured default): info and rm act on all revisions without it. */
function explicitRevision(cmd: Command): string | undefined {
  return cmd.optsWithGlobals<GlobalFlags>().revision;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  const models = program
    .command('models')
    .description('Manage Hugging Face Hub models in the local cache: pull, list, info, rm');

  models
    .command('pull <id>')
    .description('Download a hub model (config, tokenizer and the ONNX weights of --dtype) into the cache for offline use')
    .option('--json', 'print the result as one JSON value')
    .addHelpText('after', '\nUses the global --dtype (default auto), --revision (default main), --hub-url and --offline.\n'
      + '\nExamples:\n  $ geul models pull Xenova/all-MiniLM-L6-v2 --dtype q8\n  $ geul models pull Xenova/gpt2 --revision main\n')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      const config = configFromCommand(cmd);
      const bars = downloadBars();
      let result: PullResult;
      try {
        result = await pullModel(id, config, { dtype: config.dtype, onProgress: bars.onProgress });
      } finally {
        bars.stop();
      }
      if (flags.json) printJson(result);
      else process.stdout.write(`${pullSummary(result)}\n`);
    });

  models
    .command('list')
    .alias('ls')
    .description('List cached models with their revisions and sizes')
    .option('--json', 'print one JSON object per cached model, one per line')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const config = configFromCommand(cmd);
      const all = await listCachedModels(config);
      if (flags.json) {
        for (const m of all) printJson(modelLine(m));
        return;
      }
      if (all.length === 0) {
        process.stdout.write(`No cached models in ${config.cacheDir}\n`);
        return;
      }
      const rows = [['MODEL', 'REVISIONS', 'FILES', 'SIZE']];
      for (const m of all) {
        rows.push([m.id, m.revisions.map((r) => r.revision).join(','), String(m.revisions.reduce((n, r) => n + r.files.length, 0)), formatBytes(m.totalSize)]);
      }
      process.stdout.write(`${table(rows)}\n`);
    });

  models
    .command('info <id>')
    .description('Show the cached files of a model (every revision, or only --revision), or of a local model folder')
    .option('--json', 'print the details as one JSON value')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      const config = configFromCommand(cmd);
      const info = await cachedModelInfo(id, config, { revision: explicitRevision(cmd) });
      if (flags.json) {
        printJson(info);
        return;
      }
      const lines = [`${info.id}${info.local ? ' (local folder)' : ''}: ${formatBytes(info.totalSize)} in ${info.dir}`];
      for (const r of info.revisions) {
        const commit = r.sha ? ` commit ${r.sha}` : '';
        const updated = r.updatedAt ? `, updated ${r.updatedAt}` : '';
        lines.push(`  revision ${r.revision}${commit}: ${r.files.length} files, ${formatBytes(r.totalSize)}${updated}`);
        for (const f of r.files) lines.push(`    ${formatBytes(f.size).padStart(9)}  ${f.path}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  models
    .command('rm <id>')
    .alias('remove')
    .description('Delete a model from the cache (every revision, or only the one given with --revision)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (id: string, flags: { yes?: boolean }, cmd: Command) => {
      const config = configFromCommand(cmd);
      const revision = explicitRevision(cmd);
      if (!flags.yes) {
        const info = await cachedModelInfo(id, config, { revision });
        if (info.local) throw geulError('INVALID_INPUT', { detail: `${id} is a local folder, not a cache entry` });
        if (!process.stdin.isTTY) throw geulError('INVALID_INPUT', { detail: 'pass --yes to remove models when not running in a terminal' });
        const what = `${info.id} (${info.revisions.map((r) => r.revision).join(', ')}; ${formatBytes(info.totalSize)})`;
        if (!(await confirm(`Remove ${what} from ${config.cacheDir}? [y/N] `))) {
          process.stderr.write('Nothing removed.\n');
          return;
        }
      }
      const result = await removeCachedModel(id, config, { revision });
      process.stdout.write(`Removed ${result.id} (${result.removed.join(', ')}), freed ${formatBytes(result.freedBytes)}\n`);
    });
}
