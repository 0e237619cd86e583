// A real S3-compatible server for tests: s3rver (npm devDependency) in-process on 127.0.0.1, one bucket, its files in
// a temporary folder; with the store options, the config and the environment that point geul at it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3StoreOptions } from '../../src/jobs/s3-artifacts.js';

/** s3rver's built-in account: it checks every request's signature against this key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** S3ArtifactStore options for this server (`prefix` keeps tests apart). */
  options(prefix?: string, extra?: Partial<S3StoreOptions>): S3StoreOptions;
  /** What a geul process needs in its environment to use it (GEUL_ARTIFACTS, GEUL_S3_ENDPOINT, AWS keys). */
  env(prefix?: string): Record<string, string>;
  close(): Promise<void>;
}

/** `extraBuckets`: more (empty) buckets, e.g. one a test deletes to make a store fail. */
export async function startS3(bucket = 'geul-test', extraBuckets: string[] = []): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'geul-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [bucket, ...extraBuckets].map((name) => ({ name })) });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    options: (prefix = '', extra = {}) => ({ bucket, prefix, region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, ...extra }),
    env: (prefix = '') => ({
      GEUL_ARTIFACTS: `s3://${bucket}/${prefix}`, GEUL_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    }),
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
