// Sends a stored file as a download: Content-Length, Content-Disposition, and one `Range: bytes=…` (206, or 416).
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { parseRange } from '../jobs/artifacts.js';

export async function sendDownload(
  request: FastifyRequest, reply: FastifyReply, file: { bytes: number; filename: string },
  open: (range: { start: number; end: number }) => Readable | Promise<Readable>,
): Promise<FastifyReply> {
  const range = parseRange(request.headers.range, file.bytes);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.bytes}`);
    throw geulError('RANGE_NOT_SATISFIABLE', { range: String(request.headers.range).slice(0, 100), bytes: file.bytes });
  }
  const { start, end } = range ?? { start: 0, end: file.bytes - 1 };
  reply.header('accept-ranges', 'bytes').header('content-length', String(Math.max(0, end - start + 1)))
    .header('content-disposition', `attachment; filename="${file.filename}"`).type('application/octet-stream');
  if (range) reply.status(206).header('content-range', `bytes ${start}-${end}/${file.bytes}`);
  return reply.send(file.bytes === 0 ? '' : await open({ start, end }));
}
