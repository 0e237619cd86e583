// /v1/files as OpenAI's Files API: upload (multipart, streamed to disk), list (cursor), get, download the content and
// delete; files belong to the key that uploaded them (a batch's output files to the batch's owner), admins see all.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type, parseLoose } from '../core/schema.js';
import { sendDownload } from './download.js';
import { FILE_PURPOSES, UPLOAD_PURPOSES, safeFilename, type FilePurpose, type FileStore, type StoredFile } from '../jobs/files.js';
import { clientSchema } from '../tasks/request.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';

export const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

/** Who calls: the key's id ("local" with auth off) and whether it sees everyone's jobs and files. */
export function callerOf(ctx: ServerContext, request: FastifyRequest): { owner: string; admin: boolean } {
  return { owner: request.apiKey?.id ?? 'local', admin: !ctx.guard.enabled || request.apiKey?.scopes.includes('admin') === true };
}

export const FileObject = Type.Object({
  id: Type.String(), object: Type.Literal('file'), bytes: Type.Integer(), created_at: Type.Integer({ description: 'Unix seconds' }),
  filename: Type.String(), purpose: Type.Enum(FILE_PURPOSES),
}, { description: 'A file (OpenAI\'s File object)' });
const FileList = Type.Object({
  object: Type.Literal('list'), data: Type.Array(FileObject), has_more: Type.Boolean(),
  first_id: Type.Union([Type.String(), Type.Null()]), last_id: Type.Union([Type.String(), Type.Null()]),
});
const ListQuery = Type.Object({
  purpose: Type.Optional(Type.Enum(FILE_PURPOSES)),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 10000, description: 'OpenAI\'s default and maximum' }),
  after: Type.Optional(Type.String({ minLength: 1, description: 'A file id: the page after it (newest first)' })),
  order: Type.Enum(['desc'], { default: 'desc', description: 'Newest first (the only order)' }),
});
const IdParams = Type.Object({ id: Type.String() });
const Deleted = Type.Object({ id: Type.String(), object: Type.Literal('file'), deleted: Type.Literal(true) });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

export function fileJson(file: StoredFile) {
  return { id: file.id, object: 'file' as const, bytes: file.bytes, created_at: seconds(file.createdAt)!, filename: file.filename, purpose: file.purpose };
}

/** The file if the caller may see it; others' files are 404, as if they did not exist. */
export async function visibleFile(ctx: ServerContext, files: FileStore, request: FastifyRequest, id: string): Promise<StoredFile> {
  const file = await files.get(id);
  const { owner, admin } = callerOf(ctx, request);
  if (!file || (!admin && file.owner !== owner)) throw geulError('NOT_FOUND', { what: `File "${id.slice(0, 64)}"` });
  return file;
}

export async function registerFileRoutes(app: FastifyInstance, ctx: ServerContext, files: FileStore): Promise<void> {
  const jobsScope = ctx.requireScope('jobs');
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

  app.get('/v1/files', {
    preHandler: jobsScope,
    schema: { summary: 'List files', description: 'Newest first; page with `after` (the last id of the previous page) while `has_more`.', tags: ['files'], querystring: clientSchema(ListQuery), response: { 200: FileList, ...errors } },
  }, async (request) => {
    const query = parseLoose(ListQuery, request.query ?? {}, 'query');
    const { owner, admin } = callerOf(ctx, request);
    if (query.after !== undefined) await visibleFile(ctx, files, request, query.after);
    const page = await files.list({ owner: admin ? undefined : owner, purpose: query.purpose as FilePurpose | undefined, limit: query.limit, after: query.after });
    const data = page.data.map(fileJson);
    return { object: 'list', data, has_more: page.hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  });

  app.get('/v1/files/:id', {
    preHandler: jobsScope, schema: { summary: 'Get a file', tags: ['files'], params: IdParams, response: { 200: FileObject, ...errors } },
  }, async (request) => fileJson(await visibleFile(ctx, files, request, idOf(request))));

  app.get('/v1/files/:id/content', {
    preHandler: jobsScope, schema: { summary: 'Download a file\'s content', description: 'Streamed, with `Content-Length`; supports `Range: bytes=…` (206).', tags: ['files'], params: IdParams },
  }, async (request, reply) => {
    const file = await visibleFile(ctx, files, request, idOf(request));
    return sendDownload(request, reply, file, (range) => createReadStream(file.path, range));
  });

  app.delete('/v1/files/:id', {
    preHandler: jobsScope, schema: { summary: 'Delete a file', description: 'Its bytes too; a job still queued that names it will fail.', tags: ['files'], params: IdParams, response: { 200: Deleted, ...errors } },
  }, async (request) => {
    const file = await visibleFile(ctx, files, request, idOf(request));
    await files.delete(file.id);
    await rm(file.path, { force: true });
    return { id: file.id, object: 'file', deleted: true };
  });

  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: ctx.config.server.uploadLimit, files: 1, fields: 8, fieldSize: 1024, parts: 10 } });
    scope.post('/v1/files', {
      preHandler: jobsScope,
      schema: { summary: 'Upload a file', description: 'multipart/form-data with `file` and `purpose` (`batch` or `data`); streamed to disk, at most server.uploadLimit bytes (413 over it).', tags: ['files'], consumes: ['multipart/form-data'], response: { 200: FileObject, 413: ErrorBody, ...errors } },
    }, async (request, reply: FastifyReply) => {
      if (!request.isMultipart()) throw geulError('INVALID_INPUT', { detail: 'send multipart/form-data with the fields file and purpose' });
      let purpose: string | undefined;
      let saved: { id: string; path: string; filename: string; bytes: number } | undefined;
      let partial: string | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || saved) throw geulError('INVALID_INPUT', { detail: 'send exactly one file, in the field "file"' });
            const { id, path } = files.reserve(part.filename);
            partial = `${path}.partial`;
            await mkdir(dirname(path), { recursive: true });
            let bytes = 0;
            part.file.on('data', (chunk: Buffer) => { bytes += chunk.length; });
            await pipeline(part.file, createWriteStream(partial));
            saved = { id, path, filename: safeFilename(part.filename), bytes };
          } else if (part.fieldname === 'purpose') purpose = String(part.value);
        }
        if (!saved) throw geulError('INVALID_INPUT', { detail: 'file: missing (send it as the multipart field "file")' });
        if (!UPLOAD_PURPOSES.includes(purpose as (typeof UPLOAD_PURPOSES)[number])) throw geulError('INVALID_INPUT', { detail: `purpose: must be one of ${UPLOAD_PURPOSES.join(', ')}` });
        await rename(partial!, saved.path);
      } catch (err) {
        if (partial) await rm(partial, { force: true });
        throw err;
      }
      const stored = await files.add({ ...saved, owner: callerOf(ctx, request).owner, purpose: purpose as FilePurpose });
      return reply.send(fileJson(stored));
    });
  });
}
