"""Baseline: decode the 6 PNGs of every site with OpenCV's cv2.imread, as the
reference loader does (decode only, nothing written), on THREADS threads
(cv2 releases the GIL while decoding). Prints the median sites/s of RUNS
timed passes after one warm-up pass.

usage: cv2_decode.py DATA THREADS RUNS
"""
import glob
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import cv2

data, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cv2.setNumThreads(1)
files = sorted(glob.glob(os.path.join(data, "t*", "*", "Plate*", "*_w1.png")))
sites = [[f[: -len("1.png")] + f"{c}.png" for c in range(1, 7)] for f in files]


def load(site):
    chans = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in site]
    assert all(c is not None for c in chans)
    return chans


def one_pass():
    t = time.perf_counter()
    if threads == 1:
        for s in sites:
            load(s)
    else:
        with ThreadPoolExecutor(threads) as ex:
            for _ in ex.map(load, sites):
                pass
    return len(sites) / (time.perf_counter() - t)


one_pass()
print(f"{statistics.median(one_pass() for _ in range(runs)):.2f}")
