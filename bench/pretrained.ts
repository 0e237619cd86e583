// `npm run bench`: geul's pretrained tasks vs a bare onnxruntime-node loop on the same full-size random-weight models.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/core/config.js';
import { ModelStore } from '../src/runtime/models.js';
import { embedTexts } from '../src/tasks/embeddings.js';
import { writeFixtures } from '../src/fixtures/index.js';
import { machine, median, sharedData, timeIt, writeReadmeSection } from './common.js';
import { benchGpt2 } from './pretrained-gpt2.js';

const OUT = resolve('bench', 'out', 'models');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function sentences(): string[] {
  const sst = sharedData('sst2', 'dev.tsv');
  if (sst) return readFileSync(sst, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0].trim());
  return Array.from({ length: 512 }, (_, i) => `sentence number ${i} about a film that was ${i % 2 ? 'good' : 'bad'} and long`);
}

async function miniLm(): Promise<string> {
  if (!existsSync(join(OUT, 'minilm-l6-random', 'onnx', 'model.onnx'))) await writeFixtures(OUT, ['minilm-l6-random']);
  return join(OUT, 'minilm-l6-random');
}

/** The same work without geul: tokenizer → InferenceSession.run → mean pooling → L2 normalisation. */
async function bareEmbed(session: ort.InferenceSession, tokenizer: (t: string[], o: object) => Record<string, { data: BigInt64Array; dims: number[] }>, texts: string[]): Promise<number> {
  let count = 0;
  const enc = tokenizer(texts, { padding: true, truncation: true, max_length: 512 });
  const dims = enc.input_ids.dims;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) feeds[name] = new ort.Tensor('int64', enc[name].data, dims);
  const out = await session.run(feeds);
  const hidden = out.last_hidden_state;
  const [rows, width, dim] = hidden.dims as number[];
  const data = hidden.data as Float32Array;
  const mask = enc.attention_mask.data;
  for (let r = 0; r < rows; r++) {
    const v = new Float32Array(dim);
    let n = 0;
    for (let t = 0; t < width; t++) {
      if (mask[r * width + t] === 0n) continue;
      n++;
      for (let d = 0; d < dim; d++) v[d] += data[(r * width + t) * dim + d];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (v[d] / n) ** 2;
    count += norm > 0 ? 1 : 0;
  }
  return count;
}

async function benchEmbeddings(): Promise<string> {
  const dir = await miniLm();
  const texts = sentences().slice(0, 256);
  const models = new ModelStore(loadConfig({ cacheDir: join(OUT, 'cache') }, { skipFile: true }));
  const loaded = await models.load(dir, 'feature-extraction', 'embeddings');
  const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  const tokenizer = loaded.tokenizer as unknown as Parameters<typeof bareEmbed>[1];
  const rows: string[] = [];
  for (const batch of [1, 8, 32]) {
    const chunks: string[][] = [];
    const n = batch === 1 ? 64 : texts.length;
    for (let i = 0; i < n; i += batch) chunks.push(texts.slice(i, i + batch));
    const geulRun = async () => { for (const c of chunks) await embedTexts(loaded, c, { pooling: 'mean', normalize: true }); };
    const bareRun = async () => { for (const c of chunks) await bareEmbed(session, tokenizer, c); };
    await geulRun();
    await bareRun();
    const geulTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      geulTimes.push(await timeIt(geulRun));
      bareTimes.push(await timeIt(bareRun));
    }
    const geulRate = (n / median(geulTimes)) * 1000;
    const bareRate = (n / median(bareTimes)) * 1000;
    rows.push(`| ${batch} | ${geulRate.toFixed(1)} | ${bareRate.toFixed(1)} | ${(geulRate / bareRate).toFixed(2)} |`);
    console.log(`embeddings batch ${batch}: geul ${geulRate.toFixed(1)}/s, bare ORT ${bareRate.toFixed(1)}/s`);
  }
  await session.release();
  await models.dispose();
  return [
    `MiniLM-L6 shape (hidden 384, 6 layers, 12 heads, vocab ${loaded.tokenizer.get_vocab().size}), random weights, ${texts.length} SST-2 dev sentences (batch 1: first 64).`,
    '',
    '| batch | geul texts/s | bare onnxruntime-node texts/s | ratio (goal ≥ 0.95) |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

mkdirSync(OUT, { recursive: true });
const parts = [`Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; median of ${ROUNDS} rounds, both sides in the same process, alternating. Rerun: \`npm run bench\`.`];
parts.push('### Embeddings', await benchEmbeddings());
const gpt2 = await benchGpt2(OUT, ROUNDS);
if (gpt2) parts.push('### GPT-2 generation', gpt2);
writeReadmeSection('Pretrained tasks', parts.join('\n\n'));
console.log('written to bench/README.md');
