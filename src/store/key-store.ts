// What every API-key store offers (SQLite for one server, Redis for replicas), and the parts both share: key format,
// hashing, parsing of scopes, rates and quotas, and the token-bucket arithmetic.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

export interface CreateKeyOptions { name: string; scopes: Scope[]; rate?: Rate; quota?: Quota; now?: number }

/** Either a value or a promise of it: the SQLite store answers at once, the Redis one over the network. */
export type Awaitable<T> = T | Promise<T>;

/** Taking one request from a key's rate: allowed, or refused with the seconds until a token is back. */
export type TokenResult = { ok: true } | { ok: false; retryAfterS: number };

/**
 * An API key store. The server awaits every call, so a backend may answer synchronously (SQLite) or not (Redis);
 * every counter operation is atomic in the backend, so several servers sharing it agree.
 */
export interface ApiKeyStore {
  /** Creates a key; the returned secret is shown once and never stored. Names are unique among active keys. */
  create(options: CreateKeyOptions): Awaitable<{ key: string; info: ApiKey }>;
  get(id: string): Awaitable<ApiKey | undefined>;
  /** Every key, revoked ones included, oldest first. */
  list(): Awaitable<ApiKey[]>;
  /** How many keys are active. */
  count(): Awaitable<number>;
  /** Revokes one active key by id, or else by an unambiguous name; how many were revoked (0 or 1). */
  revoke(idOrName: string, now?: number): Awaitable<number>;
  /** The active key matching a presented secret, or undefined. Constant-time in the secret. */
  verify(presented: string): Awaitable<ApiKey | undefined>;
  touch(id: string, now?: number): Awaitable<void>;
  usage(id: string, day: string): Awaitable<number>;
  /** Adds `amount` to the day's usage if it stays within `limit`; false (and nothing added) otherwise. */
  charge(id: string, day: string, amount: number, limit: number): Awaitable<boolean>;
  /** Gives back an earlier charge; usage never goes below zero. */
  refund(id: string, day: string, amount: number): Awaitable<void>;
  /** Takes one token from the key's bucket (capacity `rate.count`, refilled over `rate.periodMs`). */
  takeToken(id: string, rate: Rate, now: number): Awaitable<TokenResult>;
  close(): Awaitable<void>;
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

export function parseScopes(text: string | readonly string[]): Scope[] {
  const scopes = (typeof text === 'string' ? text.split(',') : [...text]).map((s) => s.trim()).filter(Boolean);
  for (const s of scopes) if (!SCOPES.includes(s as Scope)) throw geulError('INVALID_INPUT', { detail: `unknown scope "${s}" (known: ${SCOPES.join(', ')})` });
  if (scopes.length === 0) throw geulError('INVALID_INPUT', { detail: 'at least one scope is needed' });
  return [...new Set(scopes)] as Scope[];
}

/** The UTC day (YYYY-MM-DD) a timestamp falls on; quotas reset at 00:00 UTC. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export const hashKey = (secret: string): Buffer => createHash('sha256').update(secret).digest();
const KEY_PATTERN = /^geul_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** Compared against when a key id does not exist, so a miss takes as long as a hit. */
const DUMMY_HASH = hashKey('geul-dummy');

/** The key id a presented secret claims, or undefined when it is not shaped like a geul key. */
export function keyIdOf(presented: string): string | undefined {
  return KEY_PATTERN.exec(presented)?.[1];
}

/** Whether `presented` hashes to `stored` (a miss compares against a dummy, so it costs the same). */
export function secretMatches(presented: string, stored: Buffer | undefined): boolean {
  const ok = timingSafeEqual(hashKey(presented), stored && stored.length === DUMMY_HASH.length ? stored : DUMMY_HASH);
  return ok && stored !== undefined;
}

export function checkKeyName(name: string): void {
  if (!/^[\w .@-]{1,64}$/.test(name)) throw geulError('INVALID_INPUT', { detail: 'key name: 1-64 letters, digits, spaces, "_", "-", ".", "@"' });
}

export function nameTaken(name: string, ids: string[]): Error {
  return geulError('INVALID_INPUT', { detail: `an active key is already named "${name}" (${ids.join(', ')}); choose another name or revoke it first` });
}

/** A new key: its 12-character id and the full secret `geul_<id>_<43 base64url characters>`. */
export function newKey(): { id: string; key: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const id = Array.from(randomBytes(12), (b) => alphabet[b % alphabet.length]).join('');
  return { id, key: `geul_${id}_${randomBytes(32).toString('base64url')}` };
}

/** Token buckets kept in this process: enough for one server over one SQLite store. */
export class MemoryBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  take(id: string, rate: Rate, now: number): TokenResult {
    const perMs = rate.count / rate.periodMs;
    const b = this.buckets.get(id) ?? { tokens: rate.count, at: now };
    b.tokens = Math.min(rate.count, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = Math.max(b.at, now);
    this.buckets.set(id, b);
    if (b.tokens < 1) return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    b.tokens -= 1;
    return { ok: true };
  }
}

/** The stored columns of a key (a SQLite row, a Redis hash): `rate` and `quota` as JSON, empty or null when unset. */
export interface KeyRecord {
  id: string; name: string; scopes: string; rate: string | null; quota: string | null;
  created_at: string; revoked_at?: string | null; last_used_at?: string | null;
}

/** A key as both stores read it back (throws on a record whose JSON fields are not geul's). */
export function keyFromRecord(row: KeyRecord): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(',').filter(Boolean) as Scope[],
    rate: row.rate ? (JSON.parse(row.rate) as Rate) : undefined,
    quota: row.quota ? (JSON.parse(row.quota) as Quota) : undefined,
    createdAt: row.created_at,
    revokedAt: row.revoked_at || undefined,
    lastUsedAt: row.last_used_at || undefined,
  };
}
