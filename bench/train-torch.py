# Reference training steps in plain PyTorch for `npm run bench:train`: the same shapes as geul's step-time models.
# Prints one JSON object: median milliseconds per step (forward + backward + Adam) for each model.
import json, statistics, sys, time
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20


class LstmClassifier(nn.Module):
    def __init__(self, vocab=20000, emb=128, hidden=128, classes=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.emb(ids))
        return self.head(h[-1])


class Encoder(nn.Module):
    def __init__(self, vocab=20000, seq=128, d=256, heads=4, ffn=1024, layers=4, classes=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.norm = nn.LayerNorm(d)
        layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.1, activation='gelu', batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(d, classes)

    def forward(self, ids, mask):
        x = self.drop(self.norm(self.tok(ids) + self.pos(torch.arange(ids.shape[1]))))
        x = self.encoder(x, src_key_padding_mask=mask == 0)
        m = mask.unsqueeze(-1).float()
        return self.head(self.drop((x * m).sum(1) / m.sum(1).clamp(min=1)))


def bench(model, inputs, labels, n):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    times = []
    for i in range(n + 3):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(*inputs), labels)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


ids = torch.randint(1, 20000, (32, 200))
lstm_ms = bench(LstmClassifier(), (ids,), torch.randint(0, 2, (32,)), steps)
ids = torch.randint(1, 20000, (16, 128))
enc_ms = bench(Encoder(), (ids, torch.ones(16, 128, dtype=torch.long)), torch.randint(0, 2, (16,)), max(5, steps // 2))
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'lstm_ms': lstm_ms, 'encoder_ms': enc_ms}))
