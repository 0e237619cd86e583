// POST /v1/playground/train and /v1/playground/sequence: the web UI's neural-network playground (a small MLP on a 2-D
// set; an RNN, an LSTM and a GRU racing on a sequence task), trained live, streamed as Server-Sent Events.
//
// It trains here, on the server, with geul's own Trainer: the same ONNX training graphs and engine as `geul train`,
// and the page keeps its strict CSP (running onnxruntime-web in the browser would need 'wasm-unsafe-eval').
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type, parseWith, type Static } from '../core/schema.js';
import { clientSchema } from '../tasks/request.js';
import { DATASETS } from '../train/playground/datasets.js';
import { datasetOf, playgroundRun, type PlaygroundSpec } from '../train/playground/run.js';
import { SEQUENCE_CELLS, SEQUENCE_EVAL_SIZE, sequenceRun, type SequenceSpec } from '../train/playground/sequence.js';
import { asObject, errorResponses } from './admit.js';
import type { ServerContext } from './context.js';
import { startSse } from './sse.js';

/** Runs at once on this server; each holds one CPU thread for the length its bounds below allow. */
export const PLAYGROUND_MAX_RUNS = 4;

export const PlaygroundRequest = Type.Object({
  dataset: Type.Enum([...DATASETS], { default: 'xor', description: 'The 2-D toy set (points in the square [-1, 1]²)' }),
  points: Type.Integer({ minimum: 20, maximum: 1000, default: 200, description: 'How many points to draw' }),
  noise: Type.Number({ minimum: 0, maximum: 0.5, default: 0.05, description: 'Standard deviation of the Gaussian noise added to each point' }),
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1, description: 'Seeds the points, the initial weights and the batch order' }),
  model: Type.Enum(['perceptron', 'mlp'], { default: 'mlp', description: 'A perceptron (one linear layer) or a multi-layer perceptron' }),
  layers: Type.Integer({ minimum: 1, maximum: 6, default: 2, description: 'Hidden layers of the MLP (ignored by the perceptron)' }),
  width: Type.Integer({ minimum: 1, maximum: 32, default: 8, description: 'Neurons per hidden layer' }),
  activation: Type.Enum(['relu', 'tanh', 'sigmoid'], { default: 'tanh', description: 'Activation of the hidden layers' }),
  optimizer: Type.Enum(['adam', 'sgd'], { default: 'adam', description: 'Adam, or SGD with momentum 0.9' }),
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.03, description: 'Learning rate' }),
  batch_size: Type.Integer({ minimum: 1, maximum: 1000, default: 32, description: 'Points per step (at most all of them)' }),
  steps: Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'Training steps' }),
  every: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Report every this many steps' }),
  grid: Type.Integer({ minimum: 8, maximum: 64, default: 40, description: 'Side of the lattice the decision boundary is sampled on' }),
}, { description: 'A playground training run' });
export type PlaygroundBody = Static<typeof PlaygroundRequest>;

const Progress = Type.Object({
  step: Type.Integer(),
  loss: Type.Number({ description: 'Mean cross-entropy over all points' }),
  accuracy: Type.Number({ description: 'Share of the points classified right' }),
  grid: Type.Array(Type.Number(), { description: 'P(class 1) on the grid × grid lattice, row by row from the top-left corner (-1, 1)' }),
});

export const SequenceRequest = Type.Object({
  length: Type.Integer({ minimum: 5, maximum: 50, default: 40, description: 'Longest sequence in tokens; each is between half of it and all of it long' }),
  hidden: Type.Integer({ minimum: 2, maximum: 32, default: 16, description: 'State size of each cell' }),
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 0.1, default: 0.01, description: 'Learning rate (Adam)' }),
  batch_size: Type.Integer({ minimum: 1, maximum: 64, default: 32, description: 'Sequences per step (fresh ones every step)' }),
  steps: Type.Integer({ minimum: 1, maximum: 600, default: 300, description: 'Training steps (each trains all three cells)' }),
  every: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Report every this many steps' }),
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1, description: 'Seeds the sequences and the initial weights' }),
}, { description: 'A race of an RNN, an LSTM and a GRU on "the class is the first token"' });
export type SequenceBody = Static<typeof SequenceRequest>;

const CellScore = Type.Object({
  loss: Type.Number({ description: `Mean cross-entropy over ${SEQUENCE_EVAL_SIZE} held-out sequences` }),
  accuracy: Type.Number({ description: 'Share of the held-out sequences classified right' }),
});
const SequenceProgress = Type.Object({ step: Type.Integer(), ...Object.fromEntries(SEQUENCE_CELLS.map((c) => [c, CellScore])) });

const sequenceSpecOf = (body: SequenceBody): SequenceSpec => ({
  length: body.length, hidden: body.hidden, lr: body.lr, batchSize: body.batch_size, steps: body.steps, every: body.every, seed: body.seed,
});

function specOf(body: PlaygroundBody): PlaygroundSpec {
  return {
    dataset: body.dataset, points: body.points, noise: body.noise, seed: body.seed, model: body.model, layers: body.layers,
    width: body.width, activation: body.activation, optimizer: body.optimizer, lr: body.lr, batchSize: body.batch_size,
    steps: body.steps, every: body.every, grid: body.grid,
  };
}

interface Run {
  stop: AbortController;
  ended: Promise<void>;
}

/** Who a run belongs to: the API key, or else the address. */
const clientOf = (request: FastifyRequest) => request.apiKey?.id ?? `ip:${request.ip}`;

export function registerPlaygroundRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const runs = new Map<string, Run>();
  app.addHook('onClose', async () => {
    for (const run of runs.values()) run.stop.abort();
    await Promise.all([...runs.values()].map((run) => run.ended));
  });
  app.post('/v1/playground/train', {
    schema: {
      summary: 'Train a perceptron or an MLP on a 2-D toy set, streaming loss, accuracy and the decision boundary (Server-Sent Events)',
      description: 'Events: first `{dataset: {x, y}}` (the points), then `{step, loss, accuracy, grid}` every `every` steps, then `{done: true, …}`. Closing the stream stops the run; a new run from the same client stops its previous one.',
      tags: ['playground'],
      body: clientSchema(PlaygroundRequest),
      response: { 200: Progress, ...errorResponses },
    },
    preHandler: ctx.requireScope('tasks'),
  }, async (request, reply) => {
    const spec = specOf(parseWith(PlaygroundRequest, asObject(request.body), 'body'));
    await stream(request, reply, { dataset: datasetOf(spec) }, (signal, onStep) => playgroundRun(spec, signal, onStep));
  });
  app.post('/v1/playground/sequence', {
    schema: {
      summary: 'Train an RNN, an LSTM and a GRU side by side on "the class is the first token", streaming each one\'s loss and accuracy (Server-Sent Events)',
      description: `Events: first \`{cells: [${SEQUENCE_CELLS.map((c) => `"${c}"`).join(', ')}], length}\`, then \`{step, rnn: {loss, accuracy}, lstm: {…}, gru: {…}}\` every \`every\` steps, then \`{done: true, …}\`. The cells train in lockstep on the same fresh batches and are scored on ${SEQUENCE_EVAL_SIZE} held-out sequences. Closing the stream stops the run; a new run from the same client (either playground) stops its previous one.`,
      tags: ['playground'],
      body: clientSchema(SequenceRequest),
      response: { 200: SequenceProgress, ...errorResponses },
    },
    preHandler: ctx.requireScope('tasks'),
  }, async (request, reply) => {
    const spec = sequenceSpecOf(parseWith(SequenceRequest, asObject(request.body), 'body'));
    await stream(request, reply, { cells: SEQUENCE_CELLS, length: spec.length }, (signal, onStep) => sequenceRun(spec, signal, onStep));
  });

  /** Streams one run's reports after `first`, within the one-run-per-client and PLAYGROUND_MAX_RUNS bounds. */
  async function stream(request: FastifyRequest, reply: FastifyReply, first: object, train: (signal: AbortSignal, onStep: () => void) => AsyncGenerator<object>) {
    const client = clientOf(request);
    // One run per client: pressing Start again (or a second tab) replaces the run, as in TensorFlow Playground.
    // (A loop: two requests that waited for the same run must not both start; the check and the claim below are synchronous.)
    for (let previous = runs.get(client); previous; previous = runs.get(client)) {
      previous.stop.abort();
      await previous.ended;
    }
    if (runs.size >= PLAYGROUND_MAX_RUNS) throw geulError('OVERLOADED', { retryAfter: 1 });
    const stop = new AbortController();
    let finish = () => {};
    const run: Run = { stop, ended: new Promise((resolve) => { finish = resolve; }) };
    runs.set(client, run);
    const sse = startSse(reply);
    const { metrics } = ctx;
    metrics.playgroundRuns.add(1);
    const signal = AbortSignal.any([stop.signal, sse.signal]);
    try {
      sse.send(first);
      let last: unknown;
      for await (const progress of train(signal, () => metrics.playgroundSteps.inc())) {
        sse.send(progress);
        last = progress;
      }
      if (!signal.aborted) sse.send({ done: true, ...(last as object) });
      else if (!sse.signal.aborted) sse.send({ stopped: 'a newer run from this client, or the server shutting down, stopped this one' });
    } catch (err) {
      if (!sse.signal.aborted) sse.send(toGeulError(err).toJSON());
    } finally {
      if (runs.get(client) === run) runs.delete(client);
      metrics.playgroundRuns.add(-1);
      finish();
      sse.end();
    }
  }
}
