"""PyTorch eager peer of examples/step_bench.rs: the same network (torchvision
backbone with a 6-channel first conv, features up to the last batch norm,
pooling, cell-type concat, neck, head, ArcFace metric branch), the same loss
and Adam with L2 weight decay, on random batches. Prints samples/s of the
median step. Usage: torch_step.py BACKBONE SIZE BATCH STEPS THREADS"""
import math, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision

backbone, size, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
classes, emb = 1139, 1024
if backbone == "densenet-tiny":
    d = torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16)
    init = 16
else:
    d = getattr(torchvision.models, backbone)(weights=None)
    init = d.features.conv0.out_channels
d.features.conv0 = nn.Conv2d(6, init, 7, 2, 3, bias=False)
nf = d.classifier.in_features

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = d.features
        self.neck = nn.Sequential(nn.BatchNorm1d(nf + 4), nn.Linear(nf + 4, emb, bias=False), nn.ReLU(inplace=True),
                                  nn.BatchNorm1d(emb), nn.Linear(emb, emb, bias=False), nn.BatchNorm1d(emb))
        self.head = nn.Linear(emb, classes)
        self.arc = nn.Parameter(torch.empty(classes, emb).uniform_(-1 / math.sqrt(emb), 1 / math.sqrt(emb)))
    def forward(self, x, s):
        f = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        e = self.neck(torch.cat([f, s], 1))
        return self.head(e), F.linear(F.normalize(e), F.normalize(self.arc))

def dense_ce(x, t):
    return (-F.log_softmax(x.float(), -1) * t).sum(-1).mean()

def arcface(c, t, s=30.0, m=0.5):
    sine = torch.sqrt(1.0 - c.pow(2))
    phi = c * math.cos(m) - sine * math.sin(m)
    phi = torch.where(c > math.cos(math.pi - m), phi, c - math.sin(math.pi - m) * m)
    return dense_ce(s * (t * phi + (1 - t) * c), t) / 2

net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-4, weight_decay=1e-5)
x = torch.randn(batch, 6, size, size)
s = torch.zeros(batch, 4); s[:, 0] = 1
y = F.one_hot(torch.randint(classes, (batch,)), classes).float()
times = []
for i in range(steps + 2):
    t = time.perf_counter()
    logits, cos = net(x, s)
    loss = 0.8 * dense_ce(logits, y) + 0.2 * arcface(cos, y)
    loss.backward(); opt.step(); opt.zero_grad()
    if i >= 2:
        times.append(time.perf_counter() - t)
times.sort()
print(f"{batch / times[len(times) // 2]:.2f}")
