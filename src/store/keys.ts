// API keys and daily usage in SQLite: keys are stored only as SHA-256 hashes, shown once, compared in constant time.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  MemoryBuckets, checkKeyName, hashKey, keyFromRecord, keyIdOf, nameTaken, newKey, secretMatches,
  type ApiKey, type ApiKeyStore, type CreateKeyOptions, type Rate, type TokenResult,
} from './key-store.js';
import { geulError } from '../core/errors.js';

export { SCOPES, parseQuota, parseRate, parseScopes, utcDay } from './key-store.js';
export type { ApiKey, ApiKeyStore, Quota, Rate, Scope } from './key-store.js';

interface KeyRow {
  id: string; name: string; hash: Buffer; scopes: string; rate: string | null; quota: string | null;
  created_at: string; revoked_at: string | null; last_used_at: string | null;
}

export function keysDbPath(dataDir: string): string {
  return join(dataDir, 'geul.sqlite');
}

/**
 * The SQLite key store. One file under the data dir; safe to open from the CLI while the server runs (WAL). Rate
 * buckets live in this process (one server per store); Redis mode (redis-keys.ts) shares them between replicas.
 */
export class KeyStore implements ApiKeyStore {
  private readonly db: Database.Database;
  private readonly buckets = new MemoryBuckets();

  constructor(path: string, options: { mustExist?: boolean } = {}) {
    if (path !== ':memory:' && !options.mustExist) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path, { fileMustExist: options.mustExist === true });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL, scopes TEXT NOT NULL,
        rate TEXT, quota TEXT, created_at TEXT NOT NULL, revoked_at TEXT, last_used_at TEXT);
      CREATE TABLE IF NOT EXISTS usage (
        key_id TEXT NOT NULL, day TEXT NOT NULL, amount INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key_id, day));`);
  }

  static open(dataDir: string): KeyStore {
    return new KeyStore(keysDbPath(dataDir));
  }

  /** The store if the data dir already has one, else undefined; never creates a folder or a file (for reading commands). */
  static openExisting(dataDir: string): KeyStore | undefined {
    const path = keysDbPath(dataDir);
    return existsSync(path) ? new KeyStore(path, { mustExist: true }) : undefined;
  }

  /** Creates a key; the returned secret is shown once and never stored. */
  create(options: CreateKeyOptions): { key: string; info: ApiKey } {
    checkKeyName(options.name);
    const { id, key } = newKey();
    const createdAt = new Date(options.now ?? Date.now()).toISOString();
    // Check and insert in one write transaction, so two CLI processes cannot both take a name.
    this.db.transaction(() => {
      const taken = this.activeNamed(options.name);
      if (taken.length > 0) throw nameTaken(options.name, taken.map((k) => k.id));
      this.db.prepare('INSERT INTO api_keys (id, name, hash, scopes, rate, quota, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        id, options.name, hashKey(key), options.scopes.join(','),
        options.rate ? JSON.stringify(options.rate) : null, options.quota ? JSON.stringify(options.quota) : null, createdAt,
      );
    }).immediate();
    return { key, info: this.get(id)! };
  }

  get(id: string): ApiKey | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row ? toKey(row) : undefined;
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[]).map(toKey);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  private activeNamed(name: string): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys WHERE name = ? AND revoked_at IS NULL ORDER BY created_at, id').all(name) as KeyRow[]).map(toKey);
  }

  /**
   * Revokes one active key, by id or else by name; returns how many were revoked (0 or 1). A name that several active
   * keys share (possible in stores made before names were unique) is refused: revoke those by id.
   */
  revoke(idOrName: string, now = Date.now()): number {
    const at = new Date(now).toISOString();
    return this.db.transaction(() => {
      const byId = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, idOrName).changes;
      if (byId > 0) return byId;
      const named = this.activeNamed(idOrName);
      if (named.length > 1) {
        throw geulError('INVALID_INPUT', { detail: `${named.length} active keys are named "${idOrName}" (${named.map((k) => k.id).join(', ')}); revoke one by its id` });
      }
      return named.length === 0 ? 0 : this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(at, named[0].id).changes;
    }).immediate();
  }

  /** The active key matching a presented secret, or undefined. Constant-time in the secret. */
  verify(presented: string): ApiKey | undefined {
    const id = keyIdOf(presented);
    const row = id ? (this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined) : undefined;
    if (!secretMatches(presented, row?.hash) || !row || row.revoked_at) return undefined;
    return toKey(row);
  }

  touch(id: string, now = Date.now()): void {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(new Date(now).toISOString(), id);
  }

  usage(id: string, day: string): number {
    const row = this.db.prepare('SELECT amount FROM usage WHERE key_id = ? AND day = ?').get(id, day) as { amount: number } | undefined;
    return row?.amount ?? 0;
  }

  /** Adds `amount` to today's usage if it stays within `limit`; returns false (and adds nothing) otherwise. */
  charge(id: string, day: string, amount: number, limit: number): boolean {
    return this.db.transaction(() => {
      const used = this.usage(id, day);
      if (used + amount > limit) return false;
      this.db.prepare('INSERT INTO usage (key_id, day, amount) VALUES (?, ?, ?) ON CONFLICT(key_id, day) DO UPDATE SET amount = amount + excluded.amount')
        .run(id, day, amount);
      return true;
    })();
  }

  /** Gives back an earlier charge (a request that failed on the server's side); usage never goes below zero. */
  refund(id: string, day: string, amount: number): void {
    this.db.prepare('UPDATE usage SET amount = MAX(0, amount - ?) WHERE key_id = ? AND day = ?').run(amount, id, day);
  }

  takeToken(id: string, rate: Rate, now: number): TokenResult {
    return this.buckets.take(id, rate, now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const toKey = (row: KeyRow): ApiKey => keyFromRecord(row);
