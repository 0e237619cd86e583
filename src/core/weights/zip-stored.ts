// Reads the directory of a zip archive and locates its stored (uncompressed) entries, for torch checkpoints.
//
// Why by hand: geul has no zip dependency (adm-zip in node_modules is a transitive one, and it reads the whole archive
// into memory), and torch.save writes every entry stored, uncompressed and 64-byte aligned, so locating an entry's bytes
// needs only the end-of-central-directory record, the central directory and each local header — read with fd reads.
import { geulError } from '../errors.js';
import { readExactly } from './tensor.js';

export interface ZipEntry {
  readonly name: string;
  /** Absolute file position of the entry's bytes. */
  readonly dataStart: number;
  readonly size: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT = 0xffff;

/** The entries of the zip archive open on `fd`; any compressed, encrypted or zip64 entry is refused with a clear error. */
export function readStoredZipEntries(fd: number, fileSize: number, path: string): Map<string, ZipEntry> {
  const invalid = (detail: string) => geulError('WEIGHTS_INVALID', { path, detail });
  if (fileSize < EOCD_BYTES) throw invalid('too small to be a zip archive');
  const tailLength = Math.min(fileSize, EOCD_BYTES + MAX_COMMENT);
  const tail = Buffer.alloc(tailLength);
  readExactly(fd, tail, fileSize - tailLength, path);
  let eocd = -1;
  for (let i = tailLength - EOCD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) { eocd = i; break; }
  }
  if (eocd < 0) throw invalid('no zip end-of-central-directory record (truncated?)');
  const count = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff) throw invalid('zip64 archives (over 4 GB) are not supported yet');
  if (directoryOffset + directorySize > fileSize) throw invalid('the zip central directory lies outside the file (truncated?)');

  const directory = Buffer.alloc(directorySize);
  readExactly(fd, directory, directoryOffset, path);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directorySize || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw invalid('corrupt zip central directory');
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    const compressedSize = directory.readUInt32LE(at + 20);
    const size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const localOffset = directory.readUInt32LE(at + 42);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 1) throw invalid(`zip entry "${name}" is encrypted`);
    if (method !== 0 || compressedSize !== size) throw invalid(`zip entry "${name}" is compressed (method ${method}); torch.save writes entries stored`);
    if (size === 0xffffffff || localOffset === 0xffffffff) throw invalid('zip64 archives (over 4 GB) are not supported yet');
    const local = Buffer.alloc(30);
    if (localOffset + 30 > fileSize) throw invalid(`zip entry "${name}" lies outside the file (truncated?)`);
    readExactly(fd, local, localOffset, path);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw invalid(`corrupt local header of zip entry "${name}"`);
    const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataStart + size > fileSize) throw invalid(`zip entry "${name}" runs past the end of the file (truncated?)`);
    entries.set(name, { name, dataStart, size });
  }
  return entries;
}
