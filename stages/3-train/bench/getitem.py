"""Peer of `rcic-train --bench-data-path`: the original solution's training
sample (its Dataset's __getitem__ with the training transforms), written
again op for op from docs/method.md sections 2-3: six 8-bit PNG decodes
with cv2 (trying train/ then test/ as the original does), stacked HWC;
random horizontal flip, vertical flip and transpose (numpy views, then
a contiguous copy); the zoom crop of side uniform in [round(S*scale), S]
resized back with cv2's INTER_NEAREST; torchvision's to_tensor (CHW, /255);
per-sample normalisation (mean, std + 1e-8 over each channel); the
per-channel x*a + b with a ~ N(1, 0.1), b ~ N(0, 0.1) drawn with numpy;
the one-hot cell type, the index and the label as tensors.

One process per worker (the original's DataLoader workers), each with one
torch thread; the sites are split between them. Prints the samples/s of the
median of RUNS runs over the sites.

usage: getitem.py DATA WORKERS RUNS [SITES]
"""
import csv
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms.functional as F

SCALE_AUG, PW_AUG = 0.5, (0.1, 0.1)


def sites(root, limit):
    """(experiment, plate, well, site, cell type, label) of the training CSVs."""
    out = []
    for name in ("train.csv", "train_controls.csv"):
        with open(root / name) as f:
            for r in csv.DictReader(f):
                for s in (1, 2):
                    out.append((r["experiment"], int(r["plate"]), r["well"], s,
                                r["experiment"].split("-")[0], int(r["sirna"])))
    random.Random(0).shuffle(out)
    return out[:limit]


def transform1(image):
    if random.random() < 0.5:
        image = image[:, ::-1, :]
    if random.random() < 0.5:
        image = image[::-1, :, :]
    if random.random() < 0.5:
        image = image.transpose([1, 0, 2])
    image = np.ascontiguousarray(image)
    n = image.shape[0]
    if SCALE_AUG != 1:
        size = random.randint(round(n * SCALE_AUG), n)
        x = random.randint(0, n - size)
        y = random.randint(0, n - size)
        image = image[x:x + size, y:y + size]
        image = cv2.resize(image, (n, n), interpolation=cv2.INTER_NEAREST)
    return image


def transform2(image):
    a = np.random.normal(1, PW_AUG[0], (6, 1, 1))
    b = np.random.normal(0, PW_AUG[1], (6, 1, 1))
    a, b = torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
    return image * a + b


def getitem(root, d, i, cell_types):
    images = []
    for channel in range(1, 7):
        for dir in ["train", "test"]:
            path = root / dir / d[0] / "Plate{}".format(d[1]) / "{}_s{}_w{}.png".format(d[2], d[3], channel)
            if path.exists():
                break
        else:
            assert 0
        images.append(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
        assert images[-1] is not None
    image = np.stack(images, axis=-1)
    image = transform1(image)
    image = F.to_tensor(image)
    pixel_mean = image.mean([1, 2])
    pixel_std = image.std([1, 2]) + 1e-8
    image = (image - pixel_mean.reshape(-1, 1, 1)) / pixel_std.reshape(-1, 1, 1)
    image = transform2(image)
    cell_type = nn.functional.one_hot(torch.tensor(cell_types.index(d[-2]), dtype=torch.long),
                                      len(cell_types)).float()
    return image, cell_type, torch.tensor(i, dtype=torch.long), torch.tensor(d[-1], dtype=torch.long)


def worker(args):
    root, part, offset, cell_types = args
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    random.seed(offset)
    np.random.seed(offset)
    for k, d in enumerate(part):
        getitem(root, d, offset + k, cell_types)
    return len(part)


def main():
    root, workers, runs = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 192
    todo = sites(root, limit)
    cell_types = sorted({d[4] for d in todo})
    parts = [(root, todo[w::workers], w * len(todo), cell_types) for w in range(workers)]
    rates = []
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(worker, [(root, p[1][:2], 0, cell_types) for p in parts])  # warm-up
        for _ in range(runs):
            t = time.perf_counter()
            n = sum(pool.map(worker, parts))
            rates.append(n / (time.perf_counter() - t))
    rates.sort()
    print(f"{rates[len(rates) // 2]:.2f}")


if __name__ == "__main__":
    main()
