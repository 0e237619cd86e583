// File records (POST /v1/files) in Redis, so every `geul serve --redis` replica knows every upload; the bytes stay on
// the shared jobs folder as in embedded mode. Each change that reads before it writes is one Lua script (atomic).
import type { Redis } from 'ioredis';
import { openRedis } from '../store/redis.js';
import { COMMAND_TIMEOUT_MS } from '../store/redis-keys.js';
import { reserveFile, type FileListRequest, type FilePage, type FilePurpose, type FileStore, type StoredFile } from './files.js';

// KEYS[1] the file's hash, KEYS[2] the order counter, KEYS[3] the index of all files, KEYS[4] the owner's index;
// ARGV id, owner, purpose, filename, bytes, path, created_at. Adds nothing when the id is taken; 1 when it added.
const ADD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'purpose', ARGV[3], 'filename', ARGV[4], 'bytes', ARGV[5], 'path', ARGV[6], 'created_at', ARGV[7], 'seq', seq)
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('ZADD', KEYS[4], seq, ARGV[1])
return 1`;

// KEYS[1] the file's hash, KEYS[2] the index of all files; ARGV[1] the owner index prefix, ARGV[2] the id.
const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', ARGV[1] .. owner, ARGV[2])
return 1`;

type FileHash = Record<string, string>;

function toFile(h: FileHash): StoredFile {
  return { id: h.id, owner: h.owner, purpose: h.purpose as FilePurpose, filename: h.filename, bytes: Number(h.bytes), path: h.path, createdAt: Number(h.created_at) };
}

/** The Redis file store; `prefix` (config.redisPrefix) starts every Redis key it writes, under `<prefix>:files:`. */
export class RedisFileStore implements FileStore {
  private readonly ns: string;

  constructor(private readonly redis: Redis, prefix: string, private readonly dir: string, private readonly owned = false, private readonly now: () => number = Date.now) {
    this.ns = `${prefix}:files:`;
  }

  /** Connects (REDIS_UNREACHABLE when Redis does not answer) and returns a store that closes its connection. */
  static async open(url: string, prefix: string, dir: string): Promise<RedisFileStore> {
    const redis = await openRedis(url, { connectionName: 'geul-files', commandTimeoutMs: COMMAND_TIMEOUT_MS });
    return new RedisFileStore(redis, prefix, dir, true);
  }

  private fileKey = (id: string) => `${this.ns}f:${id}`;
  private ownerKey = (owner: string) => `${this.ns}owner:${owner}`;
  private get allKey() { return `${this.ns}all`; }

  reserve(filename: string): { id: string; path: string } {
    return reserveFile(this.dir, filename);
  }

  private async insert(file: Omit<StoredFile, 'createdAt'>): Promise<boolean> {
    const added = await this.redis.eval(ADD, 4, this.fileKey(file.id), `${this.ns}seq`, this.allKey, this.ownerKey(file.owner),
      file.id, file.owner, file.purpose, file.filename, String(file.bytes), file.path, String(this.now()));
    return added === 1;
  }

  async add(file: Omit<StoredFile, 'createdAt'>): Promise<StoredFile> {
    if (!(await this.insert(file))) throw new Error(`file id ${file.id} is taken`);
    return (await this.get(file.id))!;
  }

  async ensure(file: Omit<StoredFile, 'createdAt'>): Promise<StoredFile> {
    await this.insert(file);
    return (await this.get(file.id))!;
  }

  async get(id: string): Promise<StoredFile | undefined> {
    const h = await this.redis.hgetall(this.fileKey(id));
    return h.id ? toFile(h) : undefined;
  }

  /** Walks the owner's (or everyone's) index newest first, skipping other purposes, until a page and one more are found. */
  async list(request: FileListRequest): Promise<FilePage> {
    const index = request.owner !== undefined ? this.ownerKey(request.owner) : this.allKey;
    let max = '+inf';
    if (request.after !== undefined) {
      const seq = await this.redis.hget(this.fileKey(request.after), 'seq');
      if (seq === null) return { data: [], hasMore: false };
      max = `(${seq}`;
    }
    const found: StoredFile[] = [];
    const step = Math.min(request.limit + 1, 1000);
    while (found.length <= request.limit) {
      const ids = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, step);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < ids.length; i += 2) pipeline.hgetall(this.fileKey(ids[i]));
      const hashes = (await pipeline.exec()) ?? [];
      for (const [err, h] of hashes) {
        if (err) throw err;
        const file = h as FileHash;
        if (file.id && (!request.purpose || file.purpose === request.purpose)) found.push(toFile(file));
      }
      max = `(${ids[ids.length - 1]}`;
      if (ids.length < 2 * step) break;
    }
    return { data: found.slice(0, request.limit), hasMore: found.length > request.limit };
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.eval(DELETE, 2, this.fileKey(id), this.allKey, this.ns + 'owner:', id)) === 1;
  }

  async close(): Promise<void> {
    if (this.owned) this.redis.disconnect();
  }
}
