// `geul keys create|list|revoke`: API keys for the HTTP server, stored hashed in the data dir's SQLite file.
import type { Command } from 'commander';
import { KeyStore, parseQuota, parseRate, parseScopes, type ApiKey } from '../../store/keys.js';
import { configFromCommand, printJson } from '../context.js';

function describe(k: ApiKey): string {
  const rate = k.rate ? `${k.rate.count}/${k.rate.periodMs / 1000}s` : 'no rate limit';
  const quota = k.quota ? `${k.quota.amount} ${k.quota.unit}/day` : 'no quota';
  return `${k.id}\t${k.name}\t${k.scopes.join(',')}\t${rate}\t${quota}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`;
}

/** Runs `fn` on the key store; `existing` commands (list, revoke) never create one and get undefined when there is none. */
function withStore<T>(cmd: Command, fn: (store: KeyStore) => T): T;
function withStore<T>(cmd: Command, fn: (store: KeyStore | undefined) => T, existing: 'existing'): T;
function withStore<T>(cmd: Command, fn: (store: KeyStore) => T, existing?: 'existing'): T {
  const { dataDir } = configFromCommand(cmd);
  const store = existing ? KeyStore.openExisting(dataDir) : KeyStore.open(dataDir);
  if (!store) {
    process.stderr.write(`geul: no key store in ${dataDir} yet (\`geul keys create\` makes one)\n`);
    return (fn as (store: KeyStore | undefined) => T)(undefined);
  }
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function register(program: Command): void {
  const keys = program.command('keys').description('Manage API keys for `geul serve`');
  keys.command('create')
    .description('Create a key; it is shown once, only its hash is stored')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--scopes <list>', 'comma-separated scopes: tasks, jobs, admin', 'tasks')
    .option('--rate <rate>', 'request rate limit, e.g. 60/min')
    .option('--quota <quota>', 'daily quota, e.g. 1000000chars/day or 50000tokens/day')
    .option('--json', 'print {"key", "id", …} as JSON')
    .action((flags: { name: string; scopes: string; rate?: string; quota?: string; json?: boolean }, cmd: Command) => {
      const options = {
        name: flags.name, scopes: parseScopes(flags.scopes),
        rate: flags.rate ? parseRate(flags.rate) : undefined, quota: flags.quota ? parseQuota(flags.quota) : undefined,
      };
      const { key, info } = withStore(cmd, (store) => store.create(options));
      if (flags.json) printJson({ key, ...info });
      else {
        process.stdout.write(`${key}\n`);
        process.stderr.write(`geul: key "${info.name}" (${info.id}) created; it is shown only this once\n`);
      }
    });
  keys.command('list')
    .description('List keys (never their secrets)')
    .option('--json', 'one JSON object per key')
    .action((flags: { json?: boolean }, cmd: Command) => {
      for (const k of withStore(cmd, (store) => store?.list() ?? [], 'existing')) {
        if (flags.json) printJson(k);
        else process.stdout.write(`${describe(k)}\n`);
      }
    });
  keys.command('revoke <idOrName>')
    .description('Revoke a key by id, or by name (names are unique among active keys)')
    .action((idOrName: string, _flags: unknown, cmd: Command) => {
      const n = withStore(cmd, (store) => store?.revoke(idOrName) ?? 0, 'existing');
      process.stderr.write(`geul: revoked ${n} key${n === 1 ? '' : 's'}\n`);
      if (n === 0) process.exitCode = 2;
    });
}
