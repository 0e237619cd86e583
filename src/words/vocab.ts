// Word2Vec vocabulary: counts, min_count / max_vocab, frequency order, subsampling keep probabilities, Huffman codes.

export interface Vocab {
  words: string[];
  counts: number[];
  index: Map<string, number>;
  totalWords: number;
}

export function buildVocab(counts: Map<string, number>, minCount: number, maxVocab = 0): Vocab {
  // Most frequent first; ties by word so the order (and so training) is deterministic.
  let entries = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (maxVocab > 0) entries = entries.slice(0, maxVocab);
  const words = entries.map(([w]) => w);
  const freq = entries.map(([, c]) => c);
  return { words, counts: freq, index: new Map(words.map((w, i) => [w, i])), totalWords: freq.reduce((a, b) => a + b, 0) };
}

/** gensim's subsampling: keep probability (√(f/t) + 1)·t/f with t = sample·total; 1 when sample is 0. */
export function keepProbabilities(vocab: Vocab, sample: number): Float32Array {
  const keep = new Float32Array(vocab.words.length).fill(1);
  if (sample <= 0) return keep;
  const threshold = sample * vocab.totalWords;
  vocab.counts.forEach((c, i) => { keep[i] = Math.min(1, (Math.sqrt(c / threshold) + 1) * (threshold / c)); });
  return keep;
}

/** Cumulative unigram^0.75 distribution (gensim's cum_table), searched by binary search when drawing negatives. */
export function cumulativeTable(vocab: Vocab, power = 0.75): Float64Array {
  const table = new Float64Array(vocab.counts.length);
  let sum = 0;
  vocab.counts.forEach((c, i) => { sum += Math.pow(c, power); table[i] = sum; });
  for (let i = 0; i < table.length; i++) table[i] /= sum;
  return table;
}

export interface Huffman {
  /** Per word: offset into `codes`/`points`, and code length. */
  offset: Int32Array;
  length: Int32Array;
  codes: Uint8Array;
  points: Int32Array;
}

/** Huffman tree over word counts as in word2vec.c: frequent words get short codes; points index inner nodes. */
export function huffman(vocab: Vocab): Huffman {
  const n = vocab.counts.length;
  const count = new Float64Array(2 * n).fill(1e15);
  vocab.counts.forEach((c, i) => { count[i] = c; });
  const parent = new Int32Array(2 * n);
  const binary = new Uint8Array(2 * n);
  let pos1 = n - 1;
  let pos2 = n;
  const pick = (): number => {
    if (pos1 >= 0 && count[pos1] < count[pos2]) return pos1--;
    return pos2++;
  };
  for (let a = 0; a < n - 1; a++) {
    const min1 = pick();
    const min2 = pick();
    count[n + a] = count[min1] + count[min2];
    parent[min1] = n + a;
    parent[min2] = n + a;
    binary[min2] = 1;
  }
  const offset = new Int32Array(n);
  const length = new Int32Array(n);
  const codes: number[] = [];
  const points: number[] = [];
  for (let w = 0; w < n; w++) {
    const code: number[] = [];
    const point: number[] = [];
    for (let b = w; b !== 2 * n - 2 && n > 1; b = parent[b]) {
      code.push(binary[b]);
      point.push(b);
    }
    offset[w] = codes.length;
    length[w] = code.length;
    // Root first: reverse, and store inner-node indices relative to the n leaves.
    for (let i = code.length - 1; i >= 0; i--) {
      codes.push(code[i]);
      points.push((i === code.length - 1 ? 2 * n - 2 : point[i + 1]) - n);
    }
  }
  return { offset, length, codes: Uint8Array.from(codes), points: Int32Array.from(points) };
}
