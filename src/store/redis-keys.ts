// API keys, revocation, rate buckets and daily quotas in Redis, so every `geul serve --redis` replica sees the same
// keys and counters. Each change that reads before it writes is one Lua script (atomic in Redis); secrets are only hashed.
import type { Redis } from 'ioredis';
import { geulError } from '../core/errors.js';
import {
  checkKeyName, keyFromRecord, keyIdOf, hashKey, nameTaken, newKey, secretMatches, type KeyRecord,
  type ApiKey, type ApiKeyStore, type CreateKeyOptions, type Rate, type TokenResult,
} from './key-store.js';
import { openRedis, redactRedisUrl } from './redis.js';

/** How long one key check may wait for Redis before the request fails with REDIS_UNREACHABLE (never let through). */
export const COMMAND_TIMEOUT_MS = 5000;

/** Daily usage counters are kept this long (then expire), so GET /v1/keys/:id/usage can look back a month. */
export const USAGE_TTL_S = 35 * 86_400;

// KEYS[1] key hash, KEYS[2] name → id, KEYS[3] the id index; ARGV: id, name, hash, scopes, rate, quota, created_at, score.
const CREATE = `
local taken = redis.call('GET', KEYS[2])
if taken then return taken end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'hash', ARGV[3], 'scopes', ARGV[4], 'rate', ARGV[5], 'quota', ARGV[6], 'created_at', ARGV[7])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
return false`;

// KEYS[1] key hash; ARGV[1] revoked_at, ARGV[2] the name index prefix. Frees the name only if it still points here.
const REVOKE = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
local name = redis.call('HGET', KEYS[1], 'name')
local id = redis.call('HGET', KEYS[1], 'id')
local nameKey = ARGV[2] .. name
if redis.call('GET', nameKey) == id then redis.call('DEL', nameKey) end
return 1`;

// KEYS[1] usage counter; ARGV amount, limit, ttl.
const CHARGE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

const REFUND = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = math.max(0, used - tonumber(ARGV[1]))
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SET', KEYS[1], left, 'KEEPTTL') end
return left`;

// KEYS[1] bucket hash; ARGV capacity, periodMs, now. The caller's clock, never earlier than the bucket's last look.
// Returns -1 when a token was taken, else the milliseconds until one is back.
const TAKE = `
local capacity = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local perMs = capacity / period
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or ARGV[1])
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or ARGV[3])
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
at = math.max(at, now)
local result = -1
if tokens < 1 then result = math.ceil((1 - tokens) / perMs) else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], period * 2)
return result`;

type KeyHash = Record<string, string>;

/** The Redis key store; `prefix` (config.redisPrefix) starts every Redis key it writes, under `<prefix>:keys:`. */
export class RedisKeyStore implements ApiKeyStore {
  private readonly ns: string;

  constructor(private readonly redis: Redis, prefix: string, private readonly owned = false, private readonly url = 'redis://') {
    this.ns = `${prefix}:keys:`;
  }

  /** Connects (REDIS_UNREACHABLE when Redis does not answer) and returns a store that closes its connection. */
  static async open(url: string, prefix: string, options: { commandTimeoutMs?: number } = {}): Promise<RedisKeyStore> {
    const redis = await openRedis(url, { connectionName: 'geul-keys', commandTimeoutMs: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS });
    return new RedisKeyStore(redis, prefix, true, url);
  }

  private keyOf(id: string): string { return `${this.ns}key:${id}`; }
  private nameOf(name: string): string { return `${this.ns}name:${name}`; }
  private get index(): string { return `${this.ns}all`; }
  private usageOf(id: string, day: string): string { return `${this.ns}usage:${id}:${day}`; }

  /** One Redis round trip; any failure (down, timed out) becomes a catalogued 503, so a check never passes unchecked. */
  private async run<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (err) {
      // Redis answered with an error (a bug, or another program's data under our prefix): not a connection problem.
      if (err instanceof Error && err.name === 'ReplyError') throw err;
      throw geulError('REDIS_UNREACHABLE', { url: redactRedisUrl(this.url), detail: (err as Error).message || String(err) }, err);
    }
  }

  private async script(lua: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(this.redis.eval(lua, keys.length, ...keys, ...args.map(String)));
  }

  async create(options: CreateKeyOptions): Promise<{ key: string; info: ApiKey }> {
    checkKeyName(options.name);
    const { id, key } = newKey();
    const now = options.now ?? Date.now();
    const taken = await this.script(CREATE, [this.keyOf(id), this.nameOf(options.name), this.index], [
      id, options.name, hashKey(key).toString('hex'), options.scopes.join(','),
      options.rate ? JSON.stringify(options.rate) : '', options.quota ? JSON.stringify(options.quota) : '',
      new Date(now).toISOString(), now]) as string | null;
    if (taken) throw nameTaken(options.name, [taken]);
    return { key, info: (await this.get(id))! };
  }

  async get(id: string): Promise<ApiKey | undefined> {
    return toKey(await this.run(this.redis.hgetall(this.keyOf(id))));
  }

  async list(): Promise<ApiKey[]> {
    const ids = await this.run(this.redis.zrange(this.index, '0', '-1'));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keyOf(id));
    const rows = (await this.run(pipeline.exec())) ?? [];
    return rows.map(([err, row]) => {
      if (err) throw geulError('REDIS_UNREACHABLE', { url: redactRedisUrl(this.url), detail: err.message }, err);
      return toKey(row as KeyHash);
    }).filter((k): k is ApiKey => k !== undefined);
  }

  async count(): Promise<number> {
    return (await this.list()).filter((k) => !k.revokedAt).length;
  }

  async revoke(idOrName: string, now = Date.now()): Promise<number> {
    const at = new Date(now).toISOString();
    const byId = Number(await this.script(REVOKE, [this.keyOf(idOrName)], [at, `${this.ns}name:`]));
    if (byId > 0) return byId;
    // Names are unique among active keys here (create checks and writes in one script), so a name is never ambiguous.
    const id = await this.run(this.redis.get(this.nameOf(idOrName)));
    return id ? Number(await this.script(REVOKE, [this.keyOf(id)], [at, `${this.ns}name:`])) : 0;
  }

  async verify(presented: string): Promise<ApiKey | undefined> {
    const id = keyIdOf(presented);
    const row = id ? await this.run(this.redis.hgetall(this.keyOf(id))) : undefined;
    const stored = row?.hash ? Buffer.from(row.hash, 'hex') : undefined;
    if (!secretMatches(presented, stored) || !row || row.revoked_at) return undefined;
    return toKey(row);
  }

  async touch(id: string, now = Date.now()): Promise<void> {
    // Only on an existing key, so touching an unknown id leaves no half record behind.
    await this.script("if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1]) end return 0", [this.keyOf(id)], [new Date(now).toISOString()]);
  }

  async usage(id: string, day: string): Promise<number> {
    return Number((await this.run(this.redis.get(this.usageOf(id, day)))) ?? 0);
  }

  async charge(id: string, day: string, amount: number, limit: number): Promise<boolean> {
    return Number(await this.script(CHARGE, [this.usageOf(id, day)], [amount, limit, USAGE_TTL_S])) === 1;
  }

  async refund(id: string, day: string, amount: number): Promise<void> {
    await this.script(REFUND, [this.usageOf(id, day)], [amount]);
  }

  async takeToken(id: string, rate: Rate, now: number): Promise<TokenResult> {
    const waitMs = Number(await this.script(TAKE, [`${this.ns}rate:${id}`], [rate.count, rate.periodMs, now]));
    return waitMs < 0 ? { ok: true } : { ok: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async close(): Promise<void> {
    if (!this.owned || this.redis.status === 'end') return;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function toKey(row: KeyHash | undefined): ApiKey | undefined {
  if (!row?.id) return undefined;
  try {
    return keyFromRecord(row as unknown as KeyRecord);
  } catch {
    throw geulError('INVALID_CONFIG', { detail: `redis: key record ${row.id} is not one geul wrote (is another program using this --redis prefix?)` });
  }
}
