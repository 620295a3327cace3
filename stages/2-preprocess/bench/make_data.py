"""Synthetic Kaggle-layout data for the preprocess benchmark: one test
experiment, SITES sites of 6 SIZExSIZE 8-bit grayscale PNGs that look
roughly like Cell Painting channels (dark background, bright blobs, noise),
so they compress like microscopy rather than like white noise.

usage: make_data.py OUT SITES [SIZE]
"""
import os
import sys

import cv2
import numpy as np

out, sites = sys.argv[1], int(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 512
rng = np.random.default_rng(0)
wells = [f"{r}{c:02d}" for r in "BCDEFGHIJKLMNO" for c in range(2, 24)]
n_wells = (sites + 1) // 2
exp, plate = "HEPG2-08", 1
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "train.csv"), "w") as f:
    f.write("id_code,experiment,plate,well,sirna\n")
with open(os.path.join(out, "train_controls.csv"), "w") as f:
    f.write("id_code,experiment,plate,well,sirna,well_type\n")
with open(os.path.join(out, "test_controls.csv"), "w") as f:
    f.write("id_code,experiment,plate,well,sirna,well_type\n")
yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
d = os.path.join(out, "test", exp, f"Plate{plate}")
os.makedirs(d, exist_ok=True)
with open(os.path.join(out, "test.csv"), "w") as f:
    f.write("id_code,experiment,plate,well\n")
    for w in wells[:n_wells]:
        f.write(f"{exp}_{plate}_{w},{exp},{plate},{w}\n")
        for s in (1, 2):
            for ch in range(1, 7):
                img = np.full((size, size), 8.0, np.float32)
                for _ in range(25):
                    cy, cx = rng.uniform(0, size, 2)
                    r = rng.uniform(6, 20) * size / 512
                    img += rng.uniform(30, 160) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
                img += rng.normal(0, 3, img.shape)
                cv2.imwrite(os.path.join(d, f"{w}_s{s}_w{ch}.png"), np.clip(img, 0, 255).astype(np.uint8))
