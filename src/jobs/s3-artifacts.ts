// The S3-compatible artifact store: objects `<prefix><job id>/<path>` and a manifest `<prefix><job id>/.artifacts.json`
// written last, which list and stat read, so a job's artifacts appear all at once and only published names are served.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadBucketCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { geulError } from '../core/errors.js';
import { checkJobId, listArtifacts, storeFailure, validArtifactName, type Artifact, type ArtifactStore, type ByteRange } from './artifacts.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix, "" or ending in "/". */
  prefix: string;
  region: string;
  /** An S3-compatible server's URL; absent: AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Absent: the AWS SDK's default chain (environment, shared files, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Files above this many bytes upload in parts of this size (S3's minimum part is 5 MiB). */
  partSize?: number;
}

const MANIFEST = '.artifacts.json';
const MIN_PART = 5 * 1024 * 1024;

// Only a missing key: a missing bucket (also a 404) is a misconfigured store and must fail loudly.
const missing = (err: unknown) => (err as { name?: string }).name === 'NoSuchKey';

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3';
  readonly onlyPublished = true;
  readonly description: string;
  private readonly client: S3Client;
  private readonly partSize: number;

  constructor(private readonly options: S3StoreOptions) {
    this.client = new S3Client({
      region: options.region, endpoint: options.endpoint, forcePathStyle: options.forcePathStyle, credentials: options.credentials,
      // Checksums only where S3 requires them: many S3-compatible servers reject the SDK's default streaming checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.partSize = Math.max(MIN_PART, options.partSize ?? 64 * 1024 * 1024);
    this.description = `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
  }

  private key(jobId: string, name: string): string {
    return `${this.options.prefix}${checkJobId(jobId)}/${name}`;
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (err) {
      // HeadBucket answers without a body: name the usual causes instead of the SDK's bare "NotFound"/"UnknownError".
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const detail = status === 404 ? 'no such bucket' : status === 403 ? 'access denied (check the credentials and s3:ListBucket)' : undefined;
      throw detail ? geulError('ARTIFACT_STORE_FAILED', { store: this.description, action: 'open its bucket', detail }, { cause: err }) : storeFailure(this.description, 'open its bucket', err);
    }
  }

  async publish(jobId: string, workDir: string): Promise<Artifact[]> {
    try {
      const artifacts = await listArtifacts(workDir);
      // Same names, same bytes: a second publish overwrites each object with what it already held.
      for (const a of artifacts) await this.upload(this.key(jobId, a.name), join(workDir, ...a.name.split('/')), a.bytes);
      await this.client.send(new PutObjectCommand({
        Bucket: this.options.bucket, Key: this.key(jobId, MANIFEST), Body: JSON.stringify({ artifacts }), ContentType: 'application/json',
      }));
      return artifacts;
    } catch (err) {
      throw storeFailure(this.description, `publish the artifacts of ${jobId}`, err);
    }
  }

  private async upload(key: string, path: string, bytes: number): Promise<void> {
    const Bucket = this.options.bucket;
    if (bytes <= this.partSize) {
      await this.client.send(new PutObjectCommand({ Bucket, Key: key, Body: bytes === 0 ? Buffer.alloc(0) : createReadStream(path), ContentLength: bytes }));
      return;
    }
    // Streamed part by part, never read whole into memory; a failed upload is aborted so no parts are left billed.
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    try {
      const parts: { ETag?: string; PartNumber: number }[] = [];
      for (let start = 0, n = 1; start < bytes; start += this.partSize, n++) {
        const end = Math.min(bytes, start + this.partSize) - 1;
        const { ETag } = await this.client.send(new UploadPartCommand({
          Bucket, Key: key, UploadId, PartNumber: n, Body: createReadStream(path, { start, end }), ContentLength: end - start + 1,
        }));
        parts.push({ ETag, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).catch(() => {});
      throw err;
    }
  }

  async list(jobId: string): Promise<Artifact[]> {
    const key = this.key(jobId, MANIFEST);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      const manifest = JSON.parse(await res.Body!.transformToString()) as { artifacts?: unknown };
      if (!Array.isArray(manifest.artifacts)) throw new Error(`${key} is not an artifact manifest`);
      return manifest.artifacts.filter((a): a is Artifact => typeof a?.name === 'string' && validArtifactName(a.name) && Number.isSafeInteger(a.bytes));
    } catch (err) {
      if (missing(err)) return [];
      throw storeFailure(this.description, `list the artifacts of ${jobId}`, err);
    }
  }

  async stat(jobId: string, name: string): Promise<{ bytes: number } | undefined> {
    if (!validArtifactName(name)) return undefined;
    const found = (await this.list(jobId)).find((a) => a.name === name);
    return found && { bytes: found.bytes };
  }

  async read(jobId: string, name: string, range?: ByteRange): Promise<Readable> {
    if (!validArtifactName(name)) throw geulError('NOT_FOUND', { what: `Artifact "${name.slice(0, 200)}"` });
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.options.bucket, Key: this.key(jobId, name), Range: range && `bytes=${range.start}-${range.end}`,
      }));
      // In Node the body is an http.IncomingMessage: a Readable streamed straight to the client.
      return res.Body as Readable;
    } catch (err) {
      if (missing(err)) throw geulError('NOT_FOUND', { what: `Artifact "${name.slice(0, 200)}"` });
      throw storeFailure(this.description, `read ${name} of ${jobId}`, err);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
