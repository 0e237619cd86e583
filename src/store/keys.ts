// API keys and daily usage in SQLite: keys are stored only as SHA-256 hashes, shown once, compared in constant time.
import Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { geulError } from '../core/errors.js';

export const SCOPES = ['tasks', 'jobs', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A request rate: `count` requests per `periodMs` (from "60/min"). */
export interface Rate { count: number; periodMs: number }
/** A daily quota in characters or (estimated) tokens (from "1000000chars/day"). */
export interface Quota { amount: number; unit: 'chars' | 'tokens' }

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  rate?: Rate;
  quota?: Quota;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

interface KeyRow {
  id: string; name: string; hash: Buffer; scopes: string; rate: string | null; quota: string | null;
  created_at: string; revoked_at: string | null; last_used_at: string | null;
}

const PERIODS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };

/** Parses "60/min", "10/s", "1000/hour". */
export function parseRate(text: string): Rate {
  const m = /^\s*(\d+)\s*\/\s*([a-z]+)\s*$/i.exec(text);
  const periodMs = m ? PERIODS[m[2].toLowerCase()] : undefined;
  if (!m || !periodMs || Number(m[1]) < 1) throw geulError('INVALID_INPUT', { detail: `rate "${text}" should look like 60/min (periods: s, min, hour, day)` });
  return { count: Number(m[1]), periodMs };
}

/** Parses "1000000chars/day" or "50000tokens/day". */
export function parseQuota(text: string): Quota {
  const m = /^\s*(\d+)\s*(chars|characters|tokens)\s*\/\s*day\s*$/i.exec(text);
  if (!m || Number(m[1]) < 1) throw geulError('INVALID_INPUT', { detail: `quota "${text}" should look like 1000000chars/day or 50000tokens/day` });
  return { amount: Number(m[1]), unit: m[2].toLowerCase() === 'tokens' ? 'tokens' : 'chars' };
}

export function parseScopes(text: string): Scope[] {
  const scopes = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scopes) if (!SCOPES.includes(s as Scope)) throw geulError('INVALID_INPUT', { detail: `unknown scope "${s}" (known: ${SCOPES.join(', ')})` });
  if (scopes.length === 0) throw geulError('INVALID_INPUT', { detail: 'at least one scope is needed' });
  return [...new Set(scopes)] as Scope[];
}

const hash = (secret: string): Buffer => createHash('sha256').update(secret).digest();
const KEY_PATTERN = /^geul_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** Compared against when a key id does not exist, so a miss takes as long as a hit. */
const DUMMY_HASH = hash('geul-dummy');

/** The UTC day (YYYY-MM-DD) a timestamp falls on; quotas reset at 00:00 UTC. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function keysDbPath(dataDir: string): string {
  return join(dataDir, 'geul.sqlite');
}

/** The key store. One file under the data dir; safe to open from the CLI while the server runs (WAL). */
export class KeyStore {
  private readonly db: Database.Database;

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
  create(options: { name: string; scopes: Scope[]; rate?: Rate; quota?: Quota; now?: number }): { key: string; info: ApiKey } {
    if (!/^[\w .@-]{1,64}$/.test(options.name)) throw geulError('INVALID_INPUT', { detail: 'key name: 1-64 letters, digits, spaces, "_", "-", ".", "@"' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const id = Array.from(randomBytes(12), (b) => alphabet[b % alphabet.length]).join('');
    const secret = randomBytes(32).toString('base64url');
    const key = `geul_${id}_${secret}`;
    const createdAt = new Date(options.now ?? Date.now()).toISOString();
    // Check and insert in one write transaction, so two CLI processes cannot both take a name.
    this.db.transaction(() => {
      const taken = this.activeNamed(options.name);
      if (taken.length > 0) {
        throw geulError('INVALID_INPUT', { detail: `an active key is already named "${options.name}" (${taken.map((k) => k.id).join(', ')}); choose another name or revoke it first` });
      }
      this.db.prepare('INSERT INTO api_keys (id, name, hash, scopes, rate, quota, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        id, options.name, hash(key), options.scopes.join(','),
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
    const m = KEY_PATTERN.exec(presented);
    const row = m ? (this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(m[1]) as KeyRow | undefined) : undefined;
    const ok = timingSafeEqual(hash(presented), row ? row.hash : DUMMY_HASH);
    if (!ok || !row || row.revoked_at) return undefined;
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(',').filter(Boolean) as Scope[],
    rate: row.rate ? (JSON.parse(row.rate) as Rate) : undefined,
    quota: row.quota ? (JSON.parse(row.quota) as Quota) : undefined,
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
  };
}
