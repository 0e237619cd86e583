// Shared CLI plumbing: global flags → typed config, one error printer, JSON output helpers.
import type { Command } from 'commander';
import { loadConfig, type ConfigOverrides, type GeulConfig } from '../core/config.js';
import { geulError, isGeulError, GeulError } from '../core/errors.js';

/** Global options every command inherits (see `geul --help`). */
export interface GlobalFlags {
  config?: string;
  offline?: boolean;
  hubUrl?: string;
  revision?: string;
  cacheDir?: string;
  dataDir?: string;
  dtype?: string;
  threads?: string;
  logLevel?: string;
  redis?: string;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('--config <file>', 'configuration file (JSON)')
    .option('--offline', 'never touch the network (also GEUL_OFFLINE=1)')
    .option('--hub-url <url>', 'model hub endpoint (also GEUL_HUB_URL / HF_ENDPOINT)')
    .option('--revision <rev>', 'model revision: branch, tag or commit (default main)')
    .option('--cache-dir <dir>', 'model cache folder (also GEUL_CACHE_DIR)')
    .option('--data-dir <dir>', 'geul data folder (also GEUL_DATA_DIR)')
    .option('--redis <url>', 'Redis for jobs (BullMQ), keys, quotas and rate limits shared by replicas (also GEUL_REDIS_URL)')
    .option('--dtype <dtype>', 'weight precision: auto, fp32, fp16, q8, q4 … (also GEUL_DTYPE)')
    .option('--threads <n>', 'inference threads, 0 = onnxruntime default (also GEUL_THREADS)')
    .option('--log-level <level>', 'log level (also GEUL_LOG_LEVEL)');
}

/** Builds the validated config from the global flags of whichever command is running. */
export function configFromCommand(command: Command, extra: ConfigOverrides = {}): GeulConfig {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const overrides: ConfigOverrides = {
    offline: flags.offline ? true : undefined,
    hubUrl: flags.hubUrl,
    revision: flags.revision,
    cacheDir: flags.cacheDir,
    dataDir: flags.dataDir,
    dtype: flags.dtype,
    threads: flags.threads,
    logLevel: flags.logLevel,
    redis: flags.redis,
    ...extra,
  };
  return loadConfig(overrides, { file: flags.config });
}

/** Prints one JSON value on its own line (the `--json` contract: one value per input). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** One-line error for users: the code and message, never a stack trace (GEUL_DEBUG=1 shows it). */
export function reportError(err: unknown): number {
  if (process.env.GEUL_DEBUG) console.error(err);
  if (isGeulError(err)) {
    process.stderr.write(`geul: ${err.message} [${err.code}]\n`);
    return err.status >= 500 ? 3 : 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`geul: unexpected error: ${message.split('\n')[0]} [INTERNAL]\n`);
  return 1;
}

export { GeulError };

/**
 * A commander parser for a number option: only "is it a number" is checked here; bounds and integrality are the run
 * spec's (one schema, the same on every face).
 */
export function numberOption(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw geulError('INVALID_INPUT', { detail: `--${name} must be a number, got "${value}"` });
    return n;
  };
}
