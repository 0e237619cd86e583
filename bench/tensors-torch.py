# PyTorch eager reference for `npm run bench:tensors`: the same three workloads as bench/tensors.ts.
# Prints one JSON object: ms per step for the toy MLP and the 784-512-512-10 MLP, and the first step's ms.
import json, sys, time
t_import = time.perf_counter()
import torch
import torch.nn as nn

threads, toy_steps, big_steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train(sizes, batch, steps, warmup=3):
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))
    t0 = time.perf_counter()
    net = mlp(sizes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    first = None
    for i in range(steps + warmup):
        if i == warmup:
            start = time.perf_counter()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if first is None:
            first = (time.perf_counter() - t0) * 1000
    return (time.perf_counter() - start) * 1000 / steps, first


toy_ms, first_ms = train([2, 64, 64, 2], 64, toy_steps)
big_ms, _ = train([784, 512, 512, 10], 256, big_steps)
print(json.dumps({'torch': torch.__version__, 'threads': threads, 'toy_ms': toy_ms, 'big_ms': big_ms, 'first_ms': first_ms}))
