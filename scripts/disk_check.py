#!/usr/bin/env python3
"""make's free disk space check, before any heavy work: an estimate of what
`make submission` will write (generated data, the preprocess artifact, each
seed's checkpoints, ONNX model and predictions, the submission folder),
printed in any case, against the free space of the file systems it goes to
(STORE's, DATA's for generated data, OUT's). Stops with one message (exit 2)
when a file system has less free space than its share. Standard library only.

The figures are upper bounds from what is known up front:
- the dataset: its sites (rows of the competition's CSVs or the public
  metadata.csv) and image size (the first PNG's header); generated data is
  counted by a run of the generator without images (sites x 6 PNGs of at
  most S^2 bytes plus a file system block each);
- the preprocess artifact: sites x 6 x S^2 bytes (8-bit channels; zstd
  level 1 leaves real images smaller), nothing when the artifact in use
  exists;
- a seed: its checkpoints and .state files as `--keep-checkpoints`,
  `--keep-epochs` and `-e` keep them, one more of each while the next epoch
  is published; the checkpoint size from the backbone's parameters (the
  torchvision features plus the reference's head, which gives the
  measured DenseNet-161 and ResNet-18 files within 1%: 129.6 MB and 60.5 MB
  with 1139 classes; the .state twice that), the ONNX model (half in fp16) and every
  site's logits; a seed whose outputs are sealed counts nothing, a resumed
  one what its folder does not hold yet.

RCIC_FREE_BYTES=N replaces the free space read from the file systems (tests).
"""

import argparse
import csv
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# torchvision's feature extractor of each backbone (parameters without the
# classifier) and the width of its pooled features.
BACKBONES = {
    "densenet121": (6_953_856, 1024),
    "densenet161": (26_472_000, 2208),
    "densenet169": (12_484_480, 1664),
    "densenet201": (18_092_928, 1920),
    "resnet18": (11_176_512, 512),
    "resnet34": (21_284_672, 512),
    "resnet50": (23_508_032, 2048),
    "resnext50_32x4d": (22_979_904, 2048),
}


def config(text):
    """A stage's `--print-config` output as a dict of strings (lists kept as
    lists of strings)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([A-Za-z0-9_-]+) = (.*)$', line.strip())
        if not m:
            continue
        k, v = m.groups()
        if v.startswith("["):
            out[k] = re.findall(r'"([^"]*)"', v)
        else:
            out[k] = v.strip('"')
    return out


def run(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def gb(n):
    if n < 1e5:
        return f"{n} bytes"
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">I", head[16:20])[0]


def png_pixels(path):
    """The 8-bit grayscale pixels of a PNG (RxRx1's channel files), or None
    for any other kind."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, idat, w, h = 8, [], 0, 0
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color != 0 or interlace:
                return None
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    out, prev = bytearray(), bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b = prev[x]
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                c = prev[x - 1] if x else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return bytes(out)


def ratio(pngs):
    """Compressed / raw size of the pixels of a few channel files: zlib at
    level 1 standing in for the artifact's zstd at level 1 (None when the
    files are not 8-bit grayscale PNGs)."""
    raw = bytearray()
    for p in pngs:
        px = png_pixels(p)
        if px is None:
            return None
        raw += px
    return len(zlib.compress(bytes(raw), 1)) / len(raw) if raw else None


def rows(path):
    with open(path, newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def dataset(root):
    """(sites, image size) of an RxRx1 root in either layout."""
    if os.path.isfile(os.path.join(root, "metadata.csv")):
        sites = rows(os.path.join(root, "metadata.csv"))
        pngs = os.path.join(root, "images", "*", "*", "*.png")
    else:
        wells = sum(rows(os.path.join(root, f)) for f in
                    ("train.csv", "test.csv", "train_controls.csv", "test_controls.csv")
                    if os.path.isfile(os.path.join(root, f)))
        sites = 2 * wells
        pngs = os.path.join(root, "train", "*", "*", "*.png")
    first = next(glob.iglob(pngs), None) or next(glob.iglob(os.path.join(root, "test", "*", "*", "*.png")), None)
    sample = sorted(glob.glob(os.path.join(os.path.dirname(first), os.path.basename(first).split("_w")[0] + "_w*.png"))) if first else []
    return sites, (png_size(first) if first else None), sample


def existing(path):
    """The nearest existing folder at or above path."""
    p = os.path.abspath(path)
    while not os.path.exists(p):
        p = os.path.dirname(p)
    return p


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="where the submission is copied")
    ap.add_argument("--models", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--generate", default="", help="non-empty: the data is generated by --synth")
    ap.add_argument("--synth", default="", help="the generator's command line (its flags from the preset)")
    ap.add_argument("--train", required=True, help="the train stage's --print-config command")
    ap.add_argument("--export", required=True, help="the export stage's --print-config command")
    ap.add_argument("--preprocess", required=True, help="the preprocess stage's --print-config command")
    a = ap.parse_args()

    items = []  # (file system path, bytes, what)

    # The dataset.
    generated = a.generate and not os.path.isfile(os.path.join(a.data, "train.csv"))
    if generated:
        with tempfile.TemporaryDirectory() as t:
            run(f"{a.synth} --no-images --out {t}/d --truth-out {t}/t -q")
            sites, _, _ = dataset(f"{t}/d")
            with open(f"{t}/t/truth.json") as f:
                size = int(re.search(r'"image_size":\s*(\d+)', f.read()).group(1))
        data_bytes = sites * 6 * (size * size + 4096)
        items.append((a.data, data_bytes, f"generated data {gb(data_bytes)} ({sites:,} sites x 6 PNGs at {size} px)"))
        sample = []
    elif os.path.isdir(a.data):
        sites, size, sample = dataset(a.data)
    else:
        return 0  # the pipeline's own checks say what is wrong with DATA
    if not size:
        return 0

    # The preprocess artifact.
    pp = config(run(a.preprocess))
    s = int(pp["image-size"]) if pp.get("image-size") else size
    in_use = os.path.join(a.models, "config", "data")
    reused = os.path.isfile(in_use) and os.path.isdir(open(in_use).read().strip())
    if reused:
        items.append((a.store, 0, "preprocess artifact reused"))
    else:
        r = ratio(sample)
        n = int(sites * 6 * s * s * min(1.0, 1.1 * r)) if r else sites * 6 * s * s
        how = (f"compressed to {r:.2f} of that, measured on the {len(sample)} channel files of one site, + 10%"
               if r else "uncompressed")
        items.append((a.store, n, f"preprocess artifact {gb(n)} ({sites:,} sites x 6 x {s}^2 bytes, {how})"))

    # Each seed.
    tr = config(run(a.train))
    ex = config(run(a.export))
    backbone = tr.get("backbone", "mem-densenet161").removeprefix("mem-")
    classes = int(tr.get("classes", 1139))
    emb = int(tr.get("embedding-size", 1024))
    feats, width = BACKBONES.get(backbone, (30_000, 64))  # densenet-tiny: tens of thousands
    # The head: the embedding from the pooled features and the one-hot cell
    # type (4), its E x E layer, the classifier and the ArcFace weights; plus
    # 1% of the features for batch-norm statistics.
    params = feats + feats // 100 + emb * (width + 5) + emb * emb + 2 * emb * classes + classes
    ckpt = 4 * params
    state = 2 * ckpt
    epochs = int(tr.get("epochs", 90))
    keep = tr.get("keep-checkpoints", "all")
    kept_epochs = {int(e) for e in tr.get("keep-epochs", []) if e.isdigit() and int(e) < epochs}
    if keep == "all":
        n_ckpt, n_state = epochs + 1, epochs
    else:
        last = min(int(keep), epochs)
        extra = len([e for e in kept_epochs if e < epochs - last])
        n_ckpt, n_state = last + 1 + extra + 1, 2  # + the best NAME; + the epoch being published
    onnx = (2 if ex.get("fp16") == "true" else 4) * params
    preds = sites * classes * 4
    per_seed = n_ckpt * ckpt + n_state * state + onnx + preds
    for seed in a.seeds.split(","):
        d = os.path.join(a.models, f"seed{seed}")
        if all(os.path.isfile(os.path.join(d, f + ".blake3")) for f in ("model", "model.onnx", "predictions.parquet")):
            items.append((a.store, 0, f"seed {seed} done"))
            continue
        need = max(0, per_seed - (du(d) if os.path.isdir(d) else 0))
        items.append((a.store, need,
                      f"seed {seed} {gb(need)} ({n_ckpt} checkpoints x {gb(ckpt)} + {n_state} .state x {gb(state)} "
                      f"({backbone}, {epochs} epochs, keep {keep}), ONNX {gb(onnx)}, logits {gb(preds)})"))
    items.append((a.store, 16_000_000, "ensemble and report 16.0 MB"))
    items.append((a.out, 2_000_000, "submission 2.0 MB"))

    # Sum by file system.
    forced = os.environ.get("RCIC_FREE_BYTES")
    systems = {}
    for path, n, _ in items:
        p = existing(path)
        dev = os.stat(p).st_dev
        fs = systems.setdefault(dev, {"need": 0, "paths": [], "free": int(forced) if forced else shutil.disk_usage(p).free})
        fs["need"] += n
        if path not in fs["paths"]:
            fs["paths"].append(path)
    total = sum(n for _, n, _ in items)
    print(f"disk: this run writes at most {gb(total)}: " + "; ".join(w for _, _, w in items))
    short = []
    for fs in systems.values():
        where = ", ".join(fs["paths"])
        print(f"disk: {gb(fs['free'])} free for {where}{' (RCIC_FREE_BYTES)' if forced else ''}")
        if fs["free"] < fs["need"]:
            short.append(f"{gb(fs['need'])} to write under {where} but {gb(fs['free'])} free")
    if short:
        print("disk: not enough free space: " + "; ".join(short)
              + "; free some space, or put STORE (and DATA, OUT) on a larger disk (DISK_CHECK=0 skips this check)",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
