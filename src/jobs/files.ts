// Uploaded input files (POST /v1/files): the record store every backend offers (SQLite here for one server, Redis in
// redis-files.ts for replicas), bytes under <jobs dir>/files (the shared volume in Redis mode), owned by a key.
import type Database from 'better-sqlite3';
import { extname, join } from 'node:path';
import type { Awaitable } from '../store/key-store.js';
import { randomId } from './sqlite-queue.js';

/** What clients may upload; `batch_output` files are a batch's output and error files (OpenAI's purpose name). */
export const UPLOAD_PURPOSES = ['batch', 'data'] as const;
export const FILE_PURPOSES = [...UPLOAD_PURPOSES, 'batch_output'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

export interface StoredFile {
  id: string;
  owner: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  /** Where the bytes are (never shown to clients). */
  path: string;
  createdAt: number;
}

/** One page of files, newest first. */
export interface FilePage { data: StoredFile[]; hasMore: boolean }
export interface FileListRequest { owner?: string; purpose?: FilePurpose; limit: number; after?: string }

/**
 * The file records. The server awaits every call, so a backend may answer synchronously (SQLite) or not (Redis);
 * `reserve` only picks an id and a path, so it needs no round trip.
 */
export interface FileStore {
  /** A new id and the path its bytes go to; the extension is kept so readers detect the format. */
  reserve(filename: string): { id: string; path: string };
  add(file: Omit<StoredFile, 'createdAt'>): Awaitable<StoredFile>;
  ensure(file: Omit<StoredFile, 'createdAt'>): Awaitable<StoredFile>;
  get(id: string): Awaitable<StoredFile | undefined>;
  /** Newest first (OpenAI's default order); `after`: a file id, the page after it. */
  list(request: FileListRequest): Awaitable<FilePage>;
  /** Forgets a file (its bytes are the caller's to remove); false when there was none. */
  delete(id: string): Awaitable<boolean>;
  close(): Awaitable<void>;
}

/** The path an uploaded file's bytes go to under `dir`, with a fresh id. */
export function reserveFile(dir: string, filename: string): { id: string; path: string } {
  const id = randomId('file-');
  return { id, path: join(dir, `${id}${extname(safeFilename(filename)).toLowerCase()}`) };
}

interface FileRow { id: string; owner: string; purpose: FilePurpose; filename: string; bytes: number; path: string; created_at: number }

/** A file name safe to keep: its last path segment, printable, at most 200 characters. */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\w.\- ]+/g, '_').replace(/^\.+/, '').slice(0, 200);
  return clean || 'upload';
}

/** File records in the jobs database (embedded mode); the database is the queue's to close. */
export class SqliteFileStore implements FileStore {
  constructor(private readonly db: Database.Database, private readonly dir: string, private readonly now: () => number = Date.now) {
    db.exec(`CREATE TABLE IF NOT EXISTS files (
      id TEXT PRIMARY KEY, owner TEXT NOT NULL, purpose TEXT NOT NULL, filename TEXT NOT NULL, bytes INTEGER NOT NULL,
      path TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  }

  reserve(filename: string): { id: string; path: string } {
    return reserveFile(this.dir, filename);
  }

  add(file: Omit<StoredFile, 'createdAt'>): StoredFile {
    const createdAt = this.now();
    this.db.prepare('INSERT INTO files (id, owner, purpose, filename, bytes, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(file.id, file.owner, file.purpose, file.filename, file.bytes, file.path, createdAt);
    return { ...file, createdAt };
  }

  ensure(file: Omit<StoredFile, 'createdAt'>): StoredFile {
    this.db.prepare('INSERT OR IGNORE INTO files (id, owner, purpose, filename, bytes, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(file.id, file.owner, file.purpose, file.filename, file.bytes, file.path, this.now());
    return this.get(file.id)!;
  }

  get(id: string): StoredFile | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE id = ?').get(id) as FileRow | undefined;
    return row ? toFile(row) : undefined;
  }

  list(request: FileListRequest): FilePage {
    const where: string[] = [];
    const args: unknown[] = [];
    if (request.owner !== undefined) { where.push('owner = ?'); args.push(request.owner); }
    if (request.purpose) { where.push('purpose = ?'); args.push(request.purpose); }
    if (request.after !== undefined) { where.push('rowid < (SELECT rowid FROM files WHERE id = ?)'); args.push(request.after); }
    const sql = `SELECT * FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, request.limit + 1) as FileRow[];
    return { data: rows.slice(0, request.limit).map(toFile), hasMore: rows.length > request.limit };
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM files WHERE id = ?').run(id).changes > 0;
  }

  close(): void {}
}

function toFile(row: FileRow): StoredFile {
  return { id: row.id, owner: row.owner, purpose: row.purpose, filename: row.filename, bytes: row.bytes, path: row.path, createdAt: row.created_at };
}
