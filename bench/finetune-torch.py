# The PyTorch anchor of `npm run bench:finetune`: BERT fine-tuning (sequence classification) or MLM pre-training steps
# in plain torch with Hugging Face's BertModel semantics (eager attention, erf GELU, LayerNorm eps 1e-12, pooler,
# dropout 0.1 at HF's sites, AdamW with biases and LayerNorm weights excluded from decay). One shape per process, so
# ru_maxrss is this shape's peak. Prints one JSON line.
#
#   OMP_WAIT_POLICY=PASSIVE python3 bench/finetune-torch.py --layers 4 --hidden 256 --seq 128 --batch 16 --steps 5
import argparse, json, math, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--layers', type=int, required=True)
p.add_argument('--hidden', type=int, required=True)
p.add_argument('--seq', type=int, required=True)
p.add_argument('--batch', type=int, required=True)
p.add_argument('--steps', type=int, default=5)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--task', choices=['classify', 'mlm'], default='classify')
p.add_argument('--vocab', type=int, default=30522)
args = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(args.threads)
H, L, V, DROP = args.hidden, args.layers, args.vocab, 0.1
HEADS = H // 64


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value, self.out = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.up, self.down = nn.Linear(H, 4 * H), nn.Linear(4 * H, H)
        self.drop = nn.Dropout(DROP)

    def forward(self, x, additive_mask):
        b, s, _ = x.shape
        split = lambda t: t.view(b, s, HEADS, H // HEADS).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(H // HEADS) + additive_mask
        probs = self.drop(F.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, H)
        attended = self.ln1(self.drop(self.out(context)) + x)
        return self.ln2(self.drop(self.down(F.gelu(self.up(attended)))) + attended)


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(V, H, padding_idx=0), nn.Embedding(512, H), nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.drop = nn.Dropout(DROP)
        self.pooler, self.classifier = nn.Linear(H, H), nn.Linear(H, 2)
        self.transform, self.mlm_ln = nn.Linear(H, H), nn.LayerNorm(H, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(V))

    def forward(self, ids, mask):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.drop(self.ln(self.words(ids) + self.positions(positions) + self.types(torch.zeros_like(ids))))
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, additive)
        if args.task == 'mlm':  # tied decoder, logits over every position as BertForMaskedLM
            return F.linear(self.mlm_ln(F.gelu(self.transform(x))), self.words.weight, self.mlm_bias)
        return self.classifier(self.drop(torch.tanh(self.pooler(x[:, 0]))))


model = Bert()
for m in model.modules():  # HF's _init_weights: normal(0, initializer_range 0.02), zero biases
    if isinstance(m, (nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, std=0.02)
    if isinstance(m, nn.Linear):
        nn.init.zeros_(m.bias)
if args.task == 'mlm':
    del model.pooler, model.classifier
else:
    del model.transform, model.mlm_ln, model.mlm_bias
# The HF Trainer's rule: no weight decay for biases and LayerNorm weights.
norms = {id(m.weight) for m in model.modules() if isinstance(m, nn.LayerNorm)}
no_decay = lambda name, t: name.endswith('bias') or id(t) in norms
named = list(model.named_parameters())
groups = [
    {'params': [t for n, t in named if not no_decay(n, t)], 'weight_decay': 0.01},
    {'params': [t for n, t in named if no_decay(n, t)], 'weight_decay': 0.0},
]
opt = torch.optim.AdamW(groups, lr=2e-5, eps=1e-8)
ids = torch.randint(1, V, (args.batch, args.seq))
mask = torch.ones(args.batch, args.seq, dtype=torch.long)
if args.task == 'mlm':
    labels = torch.full((args.batch, args.seq), -100, dtype=torch.long)
    picked = torch.rand(args.batch, args.seq) < 0.15
    labels[picked] = ids[picked]
else:
    labels = torch.randint(0, 2, (args.batch,))
model.train()
times, cpu = [], []  # wall and process CPU time (all threads) per step
for i in range(args.warmup + args.steps):
    t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad(set_to_none=True)
    logits = model(ids, mask)
    loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)
    loss.backward()
    opt.step()
    if i >= args.warmup:
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({
    'torch': torch.__version__, 'threads': torch.get_num_threads(), 'ms': statistics.median(times), 'steps_ms': times, 'cpu_ms': statistics.median(cpu),
    'params': sum(t.numel() for _, t in named), 'peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    'loss': float(loss),
}))
