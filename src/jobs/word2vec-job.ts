// The `word2vec` job: Word2Vec vectors from corpus files into vectors.bin (or .txt); a restarted job trains again from
// the start (same seed, same vectors) and the vector file is replaced atomically, so a crash never leaves half a file.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '../core/schema.js';
import { writeVectors } from '../words/formats.js';
import { trainWord2VecDetailed } from '../words/train.js';
import { Word2VecSpecSchema } from '../words/train-spec.js';
import { defineJobType } from './job-type.js';

export const Word2VecJobParams = Type.Object({
  corpus: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 1000, description: 'Corpus file ids (plain text)' }),
  format: Type.Enum(['bin', 'txt'], { default: 'bin', description: 'Vector file format' }),
  // tmpDir is the server's business, not a client's.
  ...Type.Omit(Word2VecSpecSchema, ['tmpDir']).properties,
}, { additionalProperties: false });

export const word2vecJob = defineJobType({
  id: 'word2vec',
  description: 'Train Word2Vec vectors (the options of `geul word2vec train`); artifact: vectors.bin or vectors.txt',
  params: Word2VecJobParams,
  fileFields: ['corpus'],
  async run(params, { signal, emit, workDir }) {
    const { corpus, format, ...options } = params;
    const { vectors } = await trainWord2VecDetailed(corpus, {
      ...options,
      signal,
      tmpDir: join(workDir, '.tmp'),
      onEvent: (event) => {
        if (event.type === 'step') {
          emit({ kind: 'progress', step: event.step, total: event.total });
          emit({ kind: 'metrics', step: event.step, values: { alpha: event.alpha, words_per_s: event.words_per_s } });
        } else if (event.type === 'log') emit({ kind: 'log', level: event.level, message: event.message });
      },
    });
    const file = join(workDir, `vectors.${format}`);
    await writeVectors(join(workDir, `.vectors.${format}.partial`), vectors, format);
    await rename(join(workDir, `.vectors.${format}.partial`), file);
  },
});
