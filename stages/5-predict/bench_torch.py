"""Baseline of stages/5-predict/bench.sh: PyTorch eager CPU inference of the
same network (torchvision DenseNet with a 6-channel conv0, the reference's
neck and head) with the 8 TTA variants of docs/method.md section 8 (r = 1: the
square's symmetries), and the writer of those weights as a checkpoint with
our names (data-schemas/checkpoint.md) for rcic-export.

  python bench_torch.py write BACKBONE OUT.safetensors CELL_TYPES
  python bench_torch.py run BACKBONE CKPT.safetensors SIZE SITES BATCH THREADS CELL_TYPES
"""

import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def build(backbone, cell_types):
    if backbone == "densenet-tiny":
        d = torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16)
    else:
        d = getattr(torchvision.models, backbone)(weights=None)
    d.features.conv0 = nn.Conv2d(6, d.features.conv0.out_channels, 7, 2, 3, bias=False)
    f = d.classifier.in_features
    m = nn.Module()
    m.features = d.features
    m.neck = nn.Sequential(nn.BatchNorm1d(f + cell_types), nn.Linear(f + cell_types, 1024, bias=False), nn.ReLU(), nn.BatchNorm1d(1024), nn.Linear(1024, 1024, bias=False), nn.BatchNorm1d(1024))
    m.head = nn.Linear(1024, 1139)
    m.arc_margin_product = nn.Module()
    m.arc_margin_product.weight = nn.Parameter(torch.randn(1139, 1024) * 0.01)
    return m


def forward(m, x, s):
    h = F.adaptive_avg_pool2d(m.features(x), 1).flatten(1)
    return m.head(m.neck(torch.cat([h, s], 1)))


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    names = {torch.float32: "F32", torch.int64: "I64"}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-(len(h) + 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"]).copy())
    return out


def main():
    torch.manual_seed(0)
    if sys.argv[1] == "write":
        backbone, out, ct = sys.argv[2], sys.argv[3], int(sys.argv[4])
        m = build(backbone, ct)
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                n = mod.num_features
                with torch.no_grad():
                    mod.weight.copy_(torch.rand(n) + 0.5)
                    mod.bias.copy_(torch.randn(n) * 0.1)
                    mod.running_mean.copy_(torch.randn(n) * 0.1)
                    mod.running_var.copy_(torch.rand(n) + 0.5)
        write_safetensors(out, {"model." + k: v for k, v in m.state_dict().items()})
        return
    backbone, ckpt, size, sites, batch, threads, ct = sys.argv[2], sys.argv[3], *map(int, sys.argv[4:9])
    torch.set_num_threads(threads)
    m = build(backbone, ct)
    m.load_state_dict({k[len("model."):]: v for k, v in read_safetensors(ckpt).items()})
    m.eval()
    s = F.one_hot(torch.arange(batch) % ct, ct).float()
    x = torch.randn(batch, 6, size, size)

    def tta8(x):
        out = 0
        for k in range(8):
            y = x
            if k & 1:
                y = y.flip(3)
            if k & 2:
                y = y.flip(2)
            if k & 4:
                y = y.transpose(2, 3)
            out = out + forward(m, y, s[: len(y)])
        return out / 8

    with torch.inference_mode():
        tta8(x)  # warm-up: every batch shape once (oneDNN builds kernels per shape)
        if sites % batch:
            tta8(x[: sites % batch])
        t = time.perf_counter()
        done = 0
        while done < sites:
            n = min(batch, sites - done)
            tta8(x[:n])
            done += n
        dt = time.perf_counter() - t
    print(f"{sites / dt:.3f}")


if __name__ == "__main__":
    main()
