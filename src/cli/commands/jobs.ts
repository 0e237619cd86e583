// `geul jobs submit|list|show|watch|cancel|artifacts`: durable jobs on a running `geul serve` (--url/--key or
// GEUL_URL/GEUL_API_KEY); `watch` draws a progress bar from the job's event stream and survives reconnects.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { isListField, parseJobParams } from '../../jobs/params.js';
import { JOB_TYPES, getJobType } from '../../jobs/table.js';
import { JobsClient, type JobJson } from '../jobs-client.js';
import { printJson } from '../context.js';
import { createProgress } from '../progress.js';

interface ClientFlags { url?: string; key?: string }

function client(cmd: Command): JobsClient {
  const flags = cmd.optsWithGlobals<ClientFlags>();
  return new JobsClient(flags.url ?? process.env.GEUL_URL ?? 'http://127.0.0.1:8787', flags.key ?? process.env.GEUL_API_KEY);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function summary(job: JobJson): string {
  const { step, total, eta_s: eta } = job.progress;
  const progress = total ? `${step}/${total}${eta !== null ? `, ETA ${eta}s` : ''}` : `${step}`;
  const error = job.error ? `\t${job.error.code}: ${job.error.message}` : '';
  return `${job.id}\t${job.type}\t${job.state}\t${progress}\t${new Date(job.created_at * 1000).toISOString()}${error}`;
}

/** Params from --params JSON or --params-file, then each --set a.b=value (JSON values, else strings). */
function readParams(flags: { params?: string; paramsFile?: string; set: string[] }): Record<string, unknown> {
  let params: unknown = {};
  try {
    if (flags.paramsFile) params = JSON.parse(readFileSync(flags.paramsFile, 'utf8'));
    else if (flags.params) params = JSON.parse(flags.params);
  } catch (err) {
    throw geulError('INVALID_INPUT', { detail: `--params: not valid JSON (${(err as Error).message.split('\n')[0]})` });
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) throw geulError('INVALID_INPUT', { detail: '--params must be a JSON object' });
  for (const pair of flags.set) {
    const at = pair.indexOf('=');
    if (at <= 0) throw geulError('INVALID_INPUT', { detail: `--set expects FIELD=VALUE, got "${pair}"` });
    let value: unknown = pair.slice(at + 1);
    try {
      value = JSON.parse(value as string);
    } catch { /* a plain string */ }
    setPath(params as Record<string, unknown>, pair.slice(0, at), value);
  }
  return params as Record<string, unknown>;
}

function setPath(object: Record<string, unknown>, path: string, value: unknown, append = false): void {
  const keys = path.split('.');
  let at = object;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (append) at[last] = [...((at[last] as unknown[] | undefined) ?? []), value];
  else at[last] = value;
}

/** Follows the job's events, drawing progress on stderr; resolves with the final job. */
async function watch(api: JobsClient, id: string, json: boolean): Promise<JobJson> {
  const bar = json ? undefined : createProgress(id);
  let shown = 0;
  try {
    for await (const event of api.events(id)) {
      if (json) printJson({ id: event.id, event: event.event, ...event.data });
      else if (event.event === 'progress') {
        const { step, total } = event.data as { step: number; total: number };
        if (total) bar?.setTotal(total);
        bar?.increment(step - shown);
        shown = step;
      } else if (event.event === 'log' && !process.stderr.isTTY) process.stderr.write(`geul: ${String(event.data.message)}\n`);
    }
  } finally {
    bar?.stop();
  }
  return api.json<JobJson>(`/v1/jobs/${encodeURIComponent(id)}`);
}

function finish(job: JobJson): void {
  process.stderr.write(`geul: job ${job.id} ${job.state}${job.error ? `: ${job.error.message} [${job.error.code}]` : ''}\n`);
  if (job.state !== 'succeeded') process.exitCode = job.state === 'cancelled' ? 4 : 3;
}

export function register(program: Command): void {
  const jobs = program.command('jobs').description('Submit and follow durable jobs (training, fine-tuning, pre-training, Word2Vec, batch embed/classify/translate) on a running `geul serve`')
    .option('--url <url>', 'server URL (also GEUL_URL; default http://127.0.0.1:8787)')
    .option('--key <key>', 'API key with the jobs scope (also GEUL_API_KEY)');

  jobs.command('submit <type>')
    .description(`Submit a job: ${JOB_TYPES.map((t) => t.id).join(', ')}`)
    .option('--params <json>', 'the job\'s params as JSON')
    .option('--params-file <file>', 'the job\'s params from a JSON file')
    .option('--set <field=value>', 'set one param (dotted path; JSON values), repeatable', collect, [])
    .option('--upload <field=file>', 'upload FILE and put its file id in FIELD (repeat a field for lists, e.g. corpus)', collect, [])
    .option('--watch', 'follow the job until it ends')
    .option('--json', 'print the job as JSON (with --watch: every event)')
    .addHelpText('after', `
Examples:
  $ geul jobs submit embed --upload input=texts.jsonl --set chunkSize=128 --watch
  $ geul jobs submit train --params-file spec.json --upload data.source=train.tsv
  $ geul jobs submit word2vec --upload corpus=a.txt --upload corpus=b.txt --set vectorSize=100
  $ geul jobs submit classify --upload input=reviews.txt --set model=my-classifier --set top_k=1 --watch
  $ geul jobs submit translate --upload input=doc.txt --set to=ko --set from=en
  $ geul jobs submit finetune --upload data.source=train.jsonl --set model.base=bert-base --set run.epochs=2
  $ geul jobs submit pretrain --upload data.sources=corpus.txt --set model.size=mini --set model.vocabSize=8000

Job types:
${JOB_TYPES.map((t) => `  ${t.id.padEnd(10)}${t.description}`).join('\n')}
`)
    .action(async (typeId: string, flags: { params?: string; paramsFile?: string; set: string[]; upload: string[]; watch?: boolean; json?: boolean }, cmd: Command) => {
      const api = client(cmd);
      const type = getJobType(typeId);
      const params = readParams(flags);
      const uploads = flags.upload.map((pair) => {
        const at = pair.indexOf('=');
        if (at <= 0) throw geulError('INVALID_INPUT', { detail: `--upload expects FIELD=FILE, got "${pair}"` });
        return { field: pair.slice(0, at), file: pair.slice(at + 1) };
      });
      const counts = new Map<string, number>();
      for (const { field } of uploads) counts.set(field, (counts.get(field) ?? 0) + 1);
      const list = (field: string) => isListField(type, field) || (counts.get(field) ?? 0) > 1;
      // The params are checked here first (uploads as placeholder ids), so a bad field never costs an upload.
      const check = structuredClone(params);
      for (const { field } of uploads) setPath(check, field, 'file-000000000000000000000000', list(field));
      parseJobParams(type, check);
      for (const { field, file } of uploads) setPath(params, field, await api.upload(file, 'data'), list(field));
      const job = await api.json<JobJson>('/v1/jobs', { type: type.id, params });
      if (!flags.watch) {
        if (flags.json) printJson(job);
        else process.stdout.write(`${job.id}\n`);
        return;
      }
      const done = await watch(api, job.id, Boolean(flags.json));
      if (!flags.json) process.stdout.write(`${job.id}\n`);
      finish(done);
    });

  jobs.command('list')
    .description('List jobs, newest first')
    .option('--state <state>', 'queued, running, succeeded, failed or cancelled')
    .option('--type <type>', 'only this job type')
    .option('--limit <n>', 'jobs per page (1-100)', '20')
    .option('--after <id>', 'the page after this job id')
    .option('--json', 'one JSON object per job')
    .action(async (flags: { state?: string; type?: string; limit: string; after?: string; json?: boolean }, cmd: Command) => {
      const query = new URLSearchParams(Object.entries({ state: flags.state, type: flags.type, limit: flags.limit, after: flags.after }).filter((e): e is [string, string] => e[1] !== undefined));
      const page = await client(cmd).json<{ data: JobJson[]; has_more: boolean }>(`/v1/jobs?${query}`);
      for (const job of page.data) {
        if (flags.json) printJson(job);
        else process.stdout.write(`${summary(job)}\n`);
      }
      if (page.has_more && !flags.json) process.stderr.write(`geul: more with --after ${page.data.at(-1)!.id}\n`);
    });

  jobs.command('show <id>')
    .description('Show one job')
    .option('--json', 'the job as JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      const job = await client(cmd).json<JobJson>(`/v1/jobs/${encodeURIComponent(id)}`);
      if (flags.json) return printJson(job);
      process.stdout.write(`${summary(job)}\nparams\t${JSON.stringify(job.params)}\n`);
      for (const a of job.artifacts) process.stdout.write(`artifact\t${a.name}\t${a.bytes}\n`);
    });

  jobs.command('watch <id>')
    .description('Follow a job\'s progress until it ends (reconnects if the connection drops)')
    .option('--json', 'print every event as JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => finish(await watch(client(cmd), id, Boolean(flags.json))));

  jobs.command('cancel <id>')
    .description('Cancel a job (a running training job checkpoints first)')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const job = await client(cmd).json<JobJson>(`/v1/jobs/${encodeURIComponent(id)}/cancel`, {});
      process.stderr.write(`geul: job ${job.id} is ${job.state}${job.state === 'running' ? ' (cancelling)' : ''}\n`);
    });

  jobs.command('artifacts <id> [names...]')
    .description('List a job\'s artifacts, or download the named ones (an interrupted download continues)')
    .option('-o, --out <dir>', 'folder to download into', '.')
    .option('--json', 'one JSON object per artifact')
    .action(async (id: string, names: string[], flags: { out: string; json?: boolean }, cmd: Command) => {
      const api = client(cmd);
      const list = await api.json<{ data: JobJson['artifacts'] }>(`/v1/jobs/${encodeURIComponent(id)}/artifacts`);
      if (names.length === 0) {
        for (const a of list.data) {
          if (flags.json) printJson(a);
          else process.stdout.write(`${a.name}\t${a.bytes}\n`);
        }
        return;
      }
      for (const name of names) {
        if (!list.data.some((a) => a.name === name)) throw geulError('NOT_FOUND', { what: `Artifact "${name}" of job ${id}` });
        const out = join(flags.out, name.split('/').pop()!);
        const bytes = await api.download(id, name, out);
        if (flags.json) printJson({ name, out, bytes });
        else process.stderr.write(`geul: ${name} → ${out} (${bytes} bytes)\n`);
      }
    });
}
