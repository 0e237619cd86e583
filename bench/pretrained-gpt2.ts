// GPT-2-small-shaped decoding: geul's generate vs a bare onnxruntime-node greedy loop with the same KV cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/core/config.js';
import { ModelStore, type LoadedModel } from '../src/runtime/models.js';
import { generateOne } from '../src/tasks/generate.js';
import { writeFixtures } from '../src/fixtures/index.js';
import { median, timeIt } from './common.js';

const PROMPT_TOKENS = 128;
const NEW_TOKENS = 32;

const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);

function argmaxLast(logits: ort.Tensor): number {
  const [, seq, vocab] = logits.dims as number[];
  const data = logits.data as Float32Array;
  let best = 0;
  for (let v = 1; v < vocab; v++) if (data[(seq - 1) * vocab + v] > data[(seq - 1) * vocab + best]) best = v;
  return best;
}

/** Greedy decoding by hand: one prefill run, then one run per token feeding `present.*` back as `past_key_values.*`. */
async function bareGenerate(session: ort.InferenceSession, loaded: LoadedModel, prompt: number[], newTokens: number): Promise<number> {
  const layers = Number(loaded.config.n_layer);
  const heads = Number(loaded.config.n_head);
  const headDim = Number(loaded.config.n_embd) / heads;
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
  }
  let input = prompt;
  let length = 0;
  let produced = 0;
  while (produced < newTokens) {
    const positions = input.map((_, i) => length + i);
    length += input.length;
    const out = await session.run({ input_ids: int64(input), attention_mask: int64(new Array(length).fill(1)), position_ids: int64(positions), ...past });
    const next = argmaxLast(out.logits);
    produced++;
    past = {};
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = out[`present.${i}.${kind}`];
    }
    input = [next];
  }
  return produced;
}

export async function benchGpt2(out: string, rounds: number): Promise<string | undefined> {
  const dir = join(out, 'gpt2-small-random');
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) await writeFixtures(out, ['gpt2-small-random']);
  const models = new ModelStore(loadConfig({ cacheDir: join(out, 'cache') }, { skipFile: true }));
  const loaded = await models.load(dir, 'causal-lm', 'generate');
  const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  const words = 'the story of a small town and the people who live there is told with warmth and humour'.split(' ');
  let prompt = '';
  while (loaded.tokenizer.encode(prompt, { add_special_tokens: false }).length < PROMPT_TOKENS) prompt += `${words[prompt.length % words.length]} `;
  const ids = loaded.tokenizer.encode(prompt, { add_special_tokens: false }).slice(0, PROMPT_TOKENS);
  prompt = loaded.tokenizer.decode(ids);
  const options = { max_new_tokens: 1, do_sample: false, temperature: 1, top_k: 50, top_p: 1, repetition_penalty: 1 };

  const geul = { prefill: [] as number[], decode: [] as number[] };
  const bare = { prefill: [] as number[], decode: [] as number[] };
  let generated = NEW_TOKENS;
  for (let r = 0; r <= rounds; r++) {
    const gp = await timeIt(() => generateOne(loaded, prompt, options));
    let tokens = 0;
    const gd = await timeIt(async () => { tokens = (await generateOne(loaded, prompt, { ...options, max_new_tokens: NEW_TOKENS + 1 })).tokens; });
    const bp = await timeIt(() => bareGenerate(session, loaded, ids, 1));
    const bd = await timeIt(() => bareGenerate(session, loaded, ids, NEW_TOKENS + 1));
    if (r === 0) continue; // warm-up round
    generated = Math.min(generated, tokens - 1);
    geul.prefill.push(gp);
    geul.decode.push((gd - gp) / Math.max(tokens - 1, 1));
    bare.prefill.push(bp);
    bare.decode.push((bd - bp) / NEW_TOKENS);
  }
  await session.release();
  await models.dispose();
  const gRate = 1000 / median(geul.decode);
  const bRate = 1000 / median(bare.decode);
  console.log(`GPT-2 decode: geul ${gRate.toFixed(1)} tok/s, bare ${bRate.toFixed(1)} tok/s; prefill geul ${median(geul.prefill).toFixed(0)} ms, bare ${median(bare.prefill).toFixed(0)} ms`);
  return [
    `GPT-2-small shape (768 hidden, 12 layers, 12 heads, vocab ${loaded.config.vocab_size}), random weights, greedy, prompt ${PROMPT_TOKENS} tokens, ${NEW_TOKENS} new tokens${generated < NEW_TOKENS ? ` (geul stopped at EOS after ${generated})` : ''}.`,
    '',
    '| measure | geul | bare onnxruntime-node loop | ratio (goal ≥ 0.95) |',
    '|---|---|---|---|',
    `| decode tokens/s | ${gRate.toFixed(1)} | ${bRate.toFixed(1)} | ${(gRate / bRate).toFixed(2)} |`,
    `| prefill ms (${PROMPT_TOKENS} tokens → first token) | ${median(geul.prefill).toFixed(0)} | ${median(bare.prefill).toFixed(0)} | ${(median(bare.prefill) / median(geul.prefill)).toFixed(2)} |`,
  ].join('\n');
}
