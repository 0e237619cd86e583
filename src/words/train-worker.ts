// A Word2Vec training thread (worker_threads entry): runs its share of every epoch on the shared weights.
import { parentPort, workerData } from 'node:worker_threads';
import { runThread, type ThreadData } from './train-thread.js';

runThread(workerData as ThreadData);
parentPort?.postMessage('done');
