// A fake Hugging Face Hub on 127.0.0.1 for tests: serves a folder tree like the real Hub, with fault switches and a request log.
//
// Usage:
//   const hub = await startFakeHub({ repos: { 'acme/tiny': { main: { 'config.json': '{}', 'onnx/model.onnx': bytes } } } });
//   const config = loadConfig({ hubUrl: hub.url, cacheDir }, { skipFile: true });
//   hub.fault('onnx/model.onnx', { truncateAt: 10 }, { times: 1 });   // next download of that file breaks mid-body
//   assert.equal(hub.count(), 0);                                      // "no network used"
//   await hub.close();
//
// Layout served: `root/<owner>/<name>/<revision>/<files>` (owner-less ids: `root/<name>/<revision>/…`); a revision
// containing "/" (refs/pr/1) is stored as its encodeURIComponent form. Endpoints, as on huggingface.co:
//   GET|HEAD /{repo}/resolve/{revision}/{file}          → 200 with ETag (git blob sha1) and X-Repo-Commit, or for LFS
//                                                         files 302 → /cdn/… with X-Linked-Size / X-Linked-Etag (sha256)
//   GET      /api/models/{repo}/revision/{revision}     → {id, sha, siblings: [{rfilename}]} (+ size, blobId, lfs with ?blobs=true)
// Dataset repos are keyed "datasets/owner/name" (stored under root/datasets/…) and served at /datasets/{repo}/resolve/…
// and /api/datasets/{repo}/revision/{revision}.
// Missing things answer 404 with the Hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';

/** Files of one revision: repo path → contents. */
export type FakeRepoFiles = Record<string, string | Uint8Array>;
/** Repos to create: repo id → revision → files. */
export type FakeRepos = Record<string, Record<string, FakeRepoFiles>>;

export interface FakeHubOptions {
  /** Folder to serve; default a new temp folder, removed by close(). */
  root?: string;
  /** Repos written into root before the server starts. */
  repos?: FakeRepos;
  /** When set, requests must carry `Authorization: Bearer <token>`; others get 401 RepoNotFound (like the real Hub). */
  token?: string;
  /** Serve the /api/models endpoint (default true); false answers it with a plain 404, like a mirror without the API. */
  api?: boolean;
  /** Which files live in LFS and are redirected to /cdn/… (default: *.onnx, *.onnx_data*, *.bin, *.safetensors, *.model, *.parquet). */
  lfs?: (file: string) => boolean;
}

/** What goes wrong for a matching request; fields combine (e.g. delay, then truncate). */
export interface FakeHubFault {
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with this status instead (at the first hop: resolve or api), body `body`, optional X-Error-Code and headers. */
  status?: number;
  body?: string;
  errorCode?: string;
  /** Extra headers with `status` (e.g. { location } for a redirect elsewhere). */
  headers?: Record<string, string>;
  /** Announce the full length, send only this many bytes, then close the connection. */
  truncateAt?: number;
  /** Announce this Content-Length but send the real body, then close the connection. */
  contentLength?: number;
  /** Destroy the socket without answering. */
  reset?: boolean;
}

/** One logged request. `kind` is which endpoint it hit. */
export interface FakeHubRequest {
  method: string;
  path: string;
  kind: 'resolve' | 'cdn' | 'api' | 'other';
  repo?: string;
  revision?: string;
  file?: string;
  status: number;
  authorization?: string;
}

/** Matches a request: a string equals the file path, a RegExp tests it, a function sees the whole request. */
export type FaultMatch = string | RegExp | ((req: Omit<FakeHubRequest, 'status'>) => boolean);

export interface FakeHub {
  /** Base URL, e.g. http://127.0.0.1:41234 (use as hubUrl). */
  readonly url: string;
  readonly root: string;
  /** Every request answered so far, oldest first. */
  readonly requests: FakeHubRequest[];
  /** Number of logged requests, optionally only those whose fields equal `filter`'s. */
  count(filter?: Partial<Omit<FakeHubRequest, 'status'>>): number;
  clearRequests(): void;
  /** Adds a fault for matching requests, applied `times` times (default: always). */
  fault(match: FaultMatch, fault: FakeHubFault, options?: { times?: number }): void;
  clearFaults(): void;
  /** Writes (or overwrites) files of a repo revision. */
  addRepo(repo: string, revision: string, files: FakeRepoFiles): void;
  /** The commit sha this hub reports for a repo revision (40 hex, stable). */
  commitSha(repo: string, revision: string): string;
  /** Stops the server, drops open connections and removes the temp root it created. */
  close(): Promise<void>;
}

const DEFAULT_LFS = (file: string): boolean => /\.(onnx|bin|safetensors|model|parquet)$|\.onnx_data(_\d+)?$/.test(file);

/** Writes `files` under root/<repo>/<encoded revision>/. */
export function writeRepoFiles(root: string, repo: string, revision: string, files: FakeRepoFiles): void {
  const base = join(root, ...repo.split('/'), encodeURIComponent(revision));
  for (const [file, content] of Object.entries(files)) {
    const path = join(base, ...file.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(path, base, out);
    else out.push(relative(base, path).split(sep).join('/'));
  }
  return out.sort();
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function gitBlobSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

interface Route {
  kind: FakeHubRequest['kind'];
  repo?: string;
  revision?: string;
  file?: string;
}

function route(pathname: string): Route {
  const dec = (s: string): string => decodeURIComponent(s);
  let m = /^\/api\/(models|datasets)\/([^/]+(?:\/[^/]+)?)\/revision\/([^/]+)$/.exec(pathname);
  if (m) return { kind: 'api', repo: m[1] === 'datasets' ? `datasets/${m[2]}` : m[2], revision: dec(m[3]) };
  m = /^\/cdn\/((?:datasets\/)?[^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
  if (m) return { kind: 'cdn', repo: m[1], revision: dec(m[2]), file: m[3].split('/').map(dec).join('/') };
  m = /^\/((?:datasets\/)?[^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
  if (m) return { kind: 'resolve', repo: m[1], revision: dec(m[2]), file: m[3].split('/').map(dec).join('/') };
  return { kind: 'other' };
}

/** Starts a fake Hub on 127.0.0.1 with an ephemeral port. */
export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const ownRoot = options.root === undefined;
  const root = resolve(options.root ?? mkdtempSync(join(tmpdir(), 'geul-fake-hub-')));
  const isLfs = options.lfs ?? DEFAULT_LFS;
  for (const [repo, revisions] of Object.entries(options.repos ?? {})) {
    for (const [revision, files] of Object.entries(revisions)) writeRepoFiles(root, repo, revision, files);
  }
  const requests: FakeHubRequest[] = [];
  const faults: { match: FaultMatch; fault: FakeHubFault; left: number }[] = [];
  const sockets = new Set<Socket>();
  const commitSha = (repo: string, revision: string): string =>
    /^[0-9a-f]{40}$/.test(revision) ? revision : createHash('sha1').update(`${repo}@${revision}`).digest('hex');

  const takeFault = (info: Omit<FakeHubRequest, 'status'>, bodyHop: boolean): FakeHubFault | undefined => {
    for (let i = 0; i < faults.length; i++) {
      const { match, fault } = faults[i];
      const isBodyFault = fault.truncateAt !== undefined || fault.contentLength !== undefined;
      if (isBodyFault !== bodyHop) continue;
      const hit = typeof match === 'string' ? info.file === match
        : match instanceof RegExp ? info.file !== undefined && match.test(info.file)
          : match(info);
      if (!hit) continue;
      if (--faults[i].left <= 0) faults.splice(i, 1);
      return fault;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const r = route(url.pathname);
    const info: Omit<FakeHubRequest, 'status'> = {
      method: req.method ?? 'GET', path: url.pathname + url.search, kind: r.kind, repo: r.repo, revision: r.revision, file: r.file,
      authorization: req.headers.authorization,
    };
    const send = (status: number, body: string | Buffer = '', headers: Record<string, string | number> = {}): void => {
      requests.push({ ...info, status });
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = (errorCode: string, message: string): void =>
      send(404, JSON.stringify({ error: message }), { 'content-type': 'application/json', 'x-error-code': errorCode, 'x-error-message': message });

    const first = r.kind === 'cdn' ? undefined : takeFault(info, false);
    if (first?.delayMs) await new Promise((done) => setTimeout(done, first.delayMs));
    if (first?.reset) {
      requests.push({ ...info, status: 0 });
      req.socket.destroy();
      return;
    }
    if (first?.status !== undefined) {
      const headers: Record<string, string> = { 'content-type': 'text/plain', ...first.headers };
      if (first.errorCode) headers['x-error-code'] = first.errorCode;
      return send(first.status, first.body ?? `fake hub: status ${first.status}`, headers);
    }
    if (r.kind === 'other' || !r.repo || !r.revision) return send(404, 'Not Found');
    if (r.kind === 'api' && options.api === false) return send(404, 'Not Found');
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return send(401, JSON.stringify({ error: 'Repository not found' }), { 'x-error-code': 'RepoNotFound' });
    }
    const repoDir = join(root, ...r.repo.split('/'));
    if (!isDir(repoDir)) return notFound('RepoNotFound', 'Repository not found');
    const revDir = join(repoDir, encodeURIComponent(r.revision));
    if (!isDir(revDir)) return notFound('RevisionNotFound', `Invalid rev id: ${r.revision}`);
    const sha = commitSha(r.repo, r.revision);

    if (r.kind === 'api') {
      const blobs = url.searchParams.get('blobs') === 'true';
      const siblings = listFiles(revDir).map((rfilename) => {
        if (!blobs) return { rfilename };
        const data = readFileSync(join(revDir, rfilename));
        const entry: Record<string, unknown> = { rfilename, blobId: gitBlobSha1(data), size: data.length };
        if (isLfs(rfilename)) entry.lfs = { sha256: sha256(data), size: data.length, pointerSize: 134 };
        return entry;
      });
      return send(200, JSON.stringify({ id: r.repo, modelId: r.repo, sha, siblings }), { 'content-type': 'application/json' });
    }

    const path = resolve(revDir, ...r.file!.split('/'));
    if (!path.startsWith(revDir + sep)) return send(400, 'bad path');
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      return notFound('EntryNotFound', `${r.file} does not exist on "${r.revision}"`);
    }
    const lfs = isLfs(r.file!);
    if (r.kind === 'resolve' && lfs) {
      const location = `/cdn/${r.repo}/resolve/${encodeURIComponent(r.revision)}/${r.file!.split('/').map(encodeURIComponent).join('/')}`;
      return send(302, '', {
        location, 'x-repo-commit': sha, 'x-linked-size': data.length, 'x-linked-etag': `"${sha256(data)}"`, etag: `"${sha256(data)}"`,
      });
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream', 'content-length': data.length, 'x-repo-commit': sha,
      etag: `"${lfs ? sha256(data) : gitBlobSha1(data)}"`,
    };
    const body = takeFault(info, true);
    if (body?.truncateAt !== undefined) {
      requests.push({ ...info, status: 200 });
      res.writeHead(200, headers);
      res.write(data.subarray(0, body.truncateAt), () => res.socket?.end());
      return;
    }
    if (body?.contentLength !== undefined) {
      requests.push({ ...info, status: 200 });
      res.writeHead(200, { ...headers, 'content-length': body.contentLength, connection: 'close' });
      res.write(data, () => res.socket?.end());
      return;
    }
    send(200, data, headers);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    count: (filter = {}) =>
      requests.filter((q) => Object.entries(filter).every(([k, v]) => q[k as keyof FakeHubRequest] === v)).length,
    clearRequests: () => void requests.splice(0),
    fault: (match, fault, { times = Infinity } = {}) => void faults.push({ match, fault, left: times }),
    clearFaults: () => void faults.splice(0),
    addRepo: (repo, revision, files) => writeRepoFiles(root, repo, revision, files),
    commitSha,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
      if (ownRoot) rmSync(root, { recursive: true, force: true });
    },
  };
}
