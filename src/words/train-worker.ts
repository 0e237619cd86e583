// A Word2Vec training thread: runs every epoch over its slice of the shared corpus, updating shared weights.
import { parentPort, workerData } from 'node:worker_threads';
import { FastRandom, trainRange, type SharedModel, type TrainParams } from './sgd.js';

const { params, model, corpus, start, end, epochs, seed } = workerData as {
  params: TrainParams; model: SharedModel; corpus: Int32Array; start: number; end: number; epochs: number; seed: number;
};
const random = new FastRandom(seed);
for (let e = 0; e < epochs; e++) trainRange(params, model, corpus, start, end, random);
parentPort?.postMessage('done');
