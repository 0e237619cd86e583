// `geul keys create|list|revoke|usage`: API keys for the HTTP server, stored hashed in the data dir's SQLite file,
// or with `--redis URL` in the Redis every `geul serve --redis` replica shares.
import type { Command } from 'commander';
import { geulError } from '../../core/errors.js';
import { parseQuota, parseRate, parseScopes, utcDay, type ApiKey, type ApiKeyStore } from '../../store/key-store.js';
import { KeyStore } from '../../store/keys.js';
import { RedisKeyStore } from '../../store/redis-keys.js';
import { configFromCommand, printJson } from '../context.js';

function describe(k: ApiKey): string {
  const rate = k.rate ? `${k.rate.count}/${k.rate.periodMs / 1000}s` : 'no rate limit';
  const quota = k.quota ? `${k.quota.amount} ${k.quota.unit}/day` : 'no quota';
  return `${k.id}\t${k.name}\t${k.scopes.join(',')}\t${rate}\t${quota}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`;
}

/**
 * Runs `fn` on the key store: Redis when the config names one, else the data dir's SQLite file. `existing` commands
 * (list, revoke, usage) never create a SQLite store and get undefined when there is none.
 */
async function withStore<T>(cmd: Command, fn: (store: ApiKeyStore | undefined) => Promise<T>, existing?: 'existing'): Promise<T> {
  const { dataDir, redis, redisPrefix } = configFromCommand(cmd);
  const store: ApiKeyStore | undefined = redis ? await RedisKeyStore.open(redis, redisPrefix)
    : existing ? KeyStore.openExisting(dataDir) : KeyStore.open(dataDir);
  if (!store) {
    process.stderr.write(`geul: no key store in ${dataDir} yet (\`geul keys create\` makes one)\n`);
    return fn(undefined);
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The key with this id, else the active key of this name. */
async function findKey(store: ApiKeyStore, idOrName: string): Promise<ApiKey | undefined> {
  return (await store.get(idOrName)) ?? (await store.list()).find((k) => k.name === idOrName && !k.revokedAt);
}

export function register(program: Command): void {
  const keys = program.command('keys').description('Manage API keys for `geul serve` (with --redis: the keys every replica shares)');
  keys.command('create')
    .description('Create a key; it is shown once, only its hash is stored')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--scopes <list>', 'comma-separated scopes: tasks, jobs, admin', 'tasks')
    .option('--rate <rate>', 'request rate limit, e.g. 60/min')
    .option('--quota <quota>', 'daily quota, e.g. 1000000chars/day or 50000tokens/day')
    .option('--json', 'print {"key", "id", …} as JSON')
    .action(async (flags: { name: string; scopes: string; rate?: string; quota?: string; json?: boolean }, cmd: Command) => {
      const options = {
        name: flags.name, scopes: parseScopes(flags.scopes),
        rate: flags.rate ? parseRate(flags.rate) : undefined, quota: flags.quota ? parseQuota(flags.quota) : undefined,
      };
      const { key, info } = await withStore(cmd, async (store) => store!.create(options));
      if (flags.json) printJson({ key, ...info });
      else {
        process.stdout.write(`${key}\n`);
        process.stderr.write(`geul: key "${info.name}" (${info.id}) created; it is shown only this once\n`);
      }
    });
  keys.command('list')
    .description('List keys (never their secrets)')
    .option('--json', 'one JSON object per key')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      for (const k of await withStore(cmd, async (store) => (store ? store.list() : []), 'existing')) {
        if (flags.json) printJson(k);
        else process.stdout.write(`${describe(k)}\n`);
      }
    });
  keys.command('revoke <idOrName>')
    .description('Revoke a key by id, or by name (names are unique among active keys)')
    .action(async (idOrName: string, _flags: unknown, cmd: Command) => {
      const n = await withStore(cmd, async (store) => (store ? store.revoke(idOrName) : 0), 'existing');
      process.stderr.write(`geul: revoked ${n} key${n === 1 ? '' : 's'}\n`);
      if (n === 0) process.exitCode = 2;
    });
  keys.command('usage <idOrName>')
    .description("A key's quota usage on one UTC day (by id, or the name of an active key)")
    .option('--day <YYYY-MM-DD>', 'the UTC day (default today)')
    .option('--json', 'print {"id", "day", "used", "quota", "remaining"} as JSON')
    .action(async (idOrName: string, flags: { day?: string; json?: boolean }, cmd: Command) => {
      if (flags.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(flags.day)) throw geulError('INVALID_INPUT', { detail: `--day must look like 2026-01-31, got "${flags.day}"` });
      const day = flags.day ?? utcDay(Date.now());
      const found = await withStore(cmd, async (store) => {
        const key = store ? await findKey(store, idOrName) : undefined;
        return key && store ? { key, used: await store.usage(key.id, day) } : undefined;
      }, 'existing');
      if (!found) throw geulError('NOT_FOUND', { what: `API key "${idOrName}"` });
      const { key, used } = found;
      const remaining = key.quota ? Math.max(0, key.quota.amount - used) : null;
      if (flags.json) printJson({ id: key.id, name: key.name, day, used, quota: key.quota ?? null, remaining });
      else process.stdout.write(`${key.id}\t${key.name}\t${day}\t${used}${key.quota ? ` of ${key.quota.amount} ${key.quota.unit}` : ' (no quota)'}\n`);
    });
}
