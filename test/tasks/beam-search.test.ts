// Beam search on the tiny M2M100: width 1 equals transformers.js greedy decoding; wider beams score at least as well; n-best lists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { ModelStore, type LoadedModel } from '../../src/runtime/models.js';
import { hf } from '../../src/runtime/transformers.js';
import { beamSearchHypotheses, beamSearchSeq2Seq, selectRows } from '../../src/tasks/beam-search.js';
import { isGeulError } from '../../src/core/errors.js';
import { fixturesDir } from '../helpers/fixtures.js';

let store: ModelStore;
let loaded: LoadedModel;
type Tok = hf.PreTrainedTokenizer & { _build_translation_inputs(t: string, o: object, k: Record<string, unknown>): Record<string, hf.Tensor> };

function encode(text: string, to: string): { inputs: Record<string, hf.Tensor>; forced: number } {
  const kwargs: Record<string, unknown> = { src_lang: 'en', tgt_lang: to };
  const inputs = (loaded.tokenizer as Tok)._build_translation_inputs(text, { padding: true, truncation: true }, kwargs);
  return { inputs, forced: kwargs.forced_bos_token_id as number };
}

/** Sum of log-probabilities of `tokens` after the start token, by one teacher-forced decoder pass. */
async function sequenceLogProb(inputs: Record<string, hf.Tensor>, tokens: number[]): Promise<number> {
  const start = Number(loaded.config.decoder_start_token_id);
  const decoderIds = [start, ...tokens];
  const model = loaded.model as unknown as { forward(x: Record<string, unknown>): Promise<Record<string, hf.Tensor>> };
  const out = await model.forward({ ...inputs, decoder_input_ids: new hf.Tensor('int64', BigInt64Array.from(decoderIds, BigInt), [1, decoderIds.length]) });
  const [, , vocab] = out.logits.dims;
  const data = out.logits.data as Float32Array;
  let total = 0;
  tokens.forEach((token, t) => {
    const row = data.subarray(t * vocab, (t + 1) * vocab);
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += row[token] - logSum;
  });
  return total;
}

before(async () => {
  store = new ModelStore(loadConfig({ offline: true }, { skipFile: true }));
  loaded = await store.load(join(await fixturesDir(), 'tiny-m2m100'), 'seq2seq-lm', 'translate');
});
after(() => store.dispose());

test('beam width 1 reproduces transformers.js greedy decoding (KV cache handled right)', async () => {
  for (const [text, to] of [['hello world', 'fr'], ['the cat is sleeping', 'ko']]) {
    const { inputs, forced } = encode(text, to);
    const beam = await beamSearchSeq2Seq(loaded, inputs, { numBeams: 1, maxNewTokens: 8, forcedBosTokenId: forced });
    const greedy = (await loaded.model.generate({ ...inputs, forced_bos_token_id: forced, max_new_tokens: 8, do_sample: false } as never)) as hf.Tensor;
    const eos = Number(loaded.config.eos_token_id);
    const greedyIds = Array.from(greedy.data as BigInt64Array, Number).slice(1).filter((t) => t !== eos);
    assert.deepEqual(beam, greedyIds);
    assert.equal(beam[0], forced, 'the first token is the forced target-language token');
  }
});

test('wider beams find sequences at least as likely as greedy (length penalty 0)', async () => {
  const { inputs, forced } = encode('where is the train station', 'de');
  const greedy = await beamSearchSeq2Seq(loaded, inputs, { numBeams: 1, maxNewTokens: 6, lengthPenalty: 0, forcedBosTokenId: forced });
  const wide = await beamSearchSeq2Seq(loaded, inputs, { numBeams: 4, maxNewTokens: 6, lengthPenalty: 0, forcedBosTokenId: forced });
  assert.deepEqual(await beamSearchSeq2Seq(loaded, inputs, { numBeams: 4, maxNewTokens: 6, lengthPenalty: 0, forcedBosTokenId: forced }), wide);
  const [g, w] = [await sequenceLogProb(inputs, greedy), await sequenceLogProb(inputs, wide)];
  assert.ok(w >= g - 1e-4, `beam ${w} < greedy ${g}`);
});

test('n best: distinct hypotheses best first, scored by their log-probability, the first being the single answer', async () => {
  const { inputs, forced } = encode('where is the train station', 'de');
  const options = { numBeams: 4, maxNewTokens: 6, lengthPenalty: 0, forcedBosTokenId: forced };
  const best = await beamSearchHypotheses(loaded, inputs, { ...options, numReturnSequences: 4 });
  assert.ok(best.length >= 2 && best.length <= 4, `${best.length} hypotheses`);
  assert.deepEqual(best[0].tokens, await beamSearchSeq2Seq(loaded, inputs, options));
  assert.equal(new Set(best.map((h) => h.tokens.join(','))).size, best.length, 'each hypothesis is a different sequence');
  const eos = Number(loaded.config.eos_token_id);
  for (let i = 0; i < best.length; i++) {
    if (i > 0) assert.ok(best[i - 1].score >= best[i].score, 'best first');
    assert.equal(best[i].tokens[0], forced);
    // Length penalty 0: the score is the summed log-probability, with the end token when the hypothesis finished.
    const [finished, cut] = [await sequenceLogProb(inputs, [...best[i].tokens, eos]), await sequenceLogProb(inputs, best[i].tokens)];
    const near = Math.min(Math.abs(best[i].score - finished), Math.abs(best[i].score - cut));
    assert.ok(near < 1e-3, `score ${best[i].score} matches neither ${finished} nor ${cut}`);
  }
  const two = await beamSearchHypotheses(loaded, inputs, { ...options, numReturnSequences: 2 });
  assert.deepEqual(two, best.slice(0, 2), 'asking for fewer returns the head of the same list');
});

test('n best: more sequences than beams is refused, as in transformers', async () => {
  const { inputs, forced } = encode('hello', 'fr');
  await assert.rejects(beamSearchHypotheses(loaded, inputs, { numBeams: 2, maxNewTokens: 4, forcedBosTokenId: forced, numReturnSequences: 3 }),
    (err: unknown) => isGeulError(err) && err.code === 'INVALID_INPUT' && /num_beams/.test(err.message));
});

test('selectRows copies rows in the given order', () => {
  const t = new hf.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
  const picked = selectRows(t, [2, 0, 2]);
  assert.deepEqual(picked.dims, [3, 2]);
  assert.deepEqual(Array.from(picked.data as Float32Array), [5, 6, 1, 2, 5, 6]);
});
