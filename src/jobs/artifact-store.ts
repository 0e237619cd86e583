// Where finished jobs' artifacts live and the artifact routes read them: one interface, a local folder (the default;
// a shared volume works the same) and an S3-compatible bucket (s3-artifacts.ts), chosen by config.jobs.artifacts.
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { GeulConfig } from '../core/config.js';
import { geulError } from '../core/errors.js';
import { artifactFile, checkJobId, listArtifacts, storeFailure, validArtifactName, type Artifact, type ArtifactStore, type ByteRange } from './artifacts.js';
import { jobsDir } from './runner.js';
import { randomId } from './sqlite-queue.js';

// The contract lives in artifacts.ts, which the S3 store imports too (so the two stores form no import circle).
export type { Artifact, ArtifactStore, ByteRange };

/**
 * Artifacts as folders `<root>/<job id>/`. By default the root is the jobs folder itself, so a job's work folder is
 * its artifact folder and publishing copies nothing (and a running job's files show as they are written).
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local';
  // The default root is the jobs folder, where the files of running, failed and cancelled jobs show too.
  readonly onlyPublished = false;
  readonly description: string;

  constructor(readonly root: string) {
    this.description = `local folder ${root}`;
  }

  private folder(jobId: string): string {
    return join(this.root, checkJobId(jobId));
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
    } catch (err) {
      throw storeFailure(this.description, 'open its folder', err);
    }
  }

  async publish(jobId: string, workDir: string): Promise<Artifact[]> {
    const target = this.folder(jobId);
    try {
      const artifacts = await listArtifacts(workDir);
      if (resolve(target) === resolve(workDir)) return artifacts;
      // Copied into a hidden folder, then swapped in whole: a reader sees the old set or the new one.
      const staging = join(this.root, `.${jobId}.publish-${randomId('', 8)}`);
      const old = join(this.root, `.${jobId}.old-${randomId('', 8)}`);
      try {
        for (const a of artifacts) {
          const to = join(staging, ...a.name.split('/'));
          await mkdir(dirname(to), { recursive: true });
          await copyFile(join(workDir, ...a.name.split('/')), to);
        }
        await mkdir(staging, { recursive: true });
        await rename(target, old).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
        await rename(staging, target);
      } finally {
        await rm(staging, { recursive: true, force: true });
        await rm(old, { recursive: true, force: true });
      }
      return artifacts;
    } catch (err) {
      throw storeFailure(this.description, `publish the artifacts of ${jobId}`, err);
    }
  }

  async list(jobId: string): Promise<Artifact[]> {
    return listArtifacts(this.folder(jobId));
  }

  async stat(jobId: string, name: string): Promise<{ bytes: number } | undefined> {
    if (!validArtifactName(name)) return undefined;
    const file = await artifactFile(this.folder(jobId), name);
    return file && { bytes: file.bytes };
  }

  async read(jobId: string, name: string, range?: ByteRange): Promise<Readable> {
    const file = await artifactFile(this.folder(jobId), name);
    if (!file) throw geulError('NOT_FOUND', { what: `Artifact "${name.slice(0, 200)}"` });
    return createReadStream(file.path, range);
  }

  async close(): Promise<void> {}
}

/** The store config.jobs.artifacts names; S3 credentials come from `env` (the AWS variables, else the AWS default chain). */
export async function openArtifactStore(config: GeulConfig, env: NodeJS.ProcessEnv = process.env): Promise<ArtifactStore> {
  const settings = config.jobs.artifacts;
  if (settings.store === 'local') return new LocalArtifactStore(settings.dir ?? jobsDir(config));
  // Loaded only when used: the AWS SDK is large, and most servers never need it.
  const { S3ArtifactStore } = await import('./s3-artifacts.js');
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) }
    : undefined;
  return new S3ArtifactStore({
    bucket: settings.bucket!, prefix: settings.prefix, region: settings.region, endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined, credentials,
  });
}
