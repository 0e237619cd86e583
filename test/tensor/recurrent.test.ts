// nn.RNN/GRU/LSTM (src/graph's Scan layers) against the same cells unrolled with tensor ops: outputs and gradients.
import { test } from 'node:test';
import { Generator, randn, stack, nn, type Tensor } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

type Layer = nn.RNN | nn.GRU | nn.LSTM;

/** One step of torch's cell equations, written with tensor ops. */
function unrolled(layer: Layer, kind: 'rnn' | 'gru' | 'lstm', x: Tensor): { output: Tensor; h: Tensor } {
  const H = layer.hiddenSize;
  const [T, B] = x.shape;
  let h = randn([B, H]).mul(0);
  let c = h;
  const outs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const gx = x.at(t).matmul(layer.weight_ih_l0.T).add(layer.bias_ih_l0);
    const gh = h.matmul(layer.weight_hh_l0.T).add(layer.bias_hh_l0);
    if (kind === 'rnn') h = gx.add(gh).tanh();
    else if (kind === 'gru') {
      const [xr, xz, xn] = gx.split(H, 1);
      const [hr, hz, hn] = gh.split(H, 1);
      const r = xr.add(hr).sigmoid();
      const z = xz.add(hz).sigmoid();
      const n = xn.add(r.mul(hn)).tanh();
      h = n.add(z.mul(h.sub(n)));
    } else {
      const [i, f, g, o] = gx.add(gh).split(H, 1);
      c = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh()));
      h = o.sigmoid().mul(c.tanh());
    }
    outs.push(h);
  }
  return { output: stack(outs), h };
}

for (const kind of ['rnn', 'gru', 'lstm'] as const) {
  test(`nn.${kind.toUpperCase()} matches its unrolled cell equations, forward and backward`, async () => {
    const generator = new Generator(11);
    const make = { rnn: nn.RNN, gru: nn.GRU, lstm: nn.LSTM }[kind];
    const layer = new make(3, 4, { generator });
    const x = randn([5, 2, 3], { generator, requiresGrad: true });
    const r = randn([5, 2, 4], { generator });
    const grads = async () => Promise.all([x.grad.array(), ...layer.parameters().map((p) => p.grad.array())]);
    const ours = layer.run(x);
    ours.output.mul(r).sum().add(ours.h.sum()).backward();
    const got = [await ours.output.array(), await ours.h.array(), ...(await grads())];
    x.grad = null;
    layer.zeroGrad();
    const ref = unrolled(layer, kind, x);
    ref.output.mul(r).sum().add(ref.h.sum()).backward();
    assertClose(got, [await ref.output.array(), await ref.h.array(), ...(await grads())], 1e-4);
  });
}

test('batchFirst layers take and give [batch, time, features]', async () => {
  const lstm = new nn.LSTM(3, 2, { batchFirst: true, generator: new Generator(1) });
  const out = lstm.run(randn([4, 6, 3]));
  assertClose([out.output.shape, out.h.shape, out.c?.shape], [[4, 6, 2], [4, 2], [4, 2]]);
});
