#!/usr/bin/env python3
"""`make ci`'s check of a pipeline run: the submission's shape (one row per
test well, sorted by id_code, treatment classes only, no siRNA twice on a
plate) and the ensemble report's accuracy steps, which must not fall by more
than the noise allowance from one step to the next. Standard library only."""

import argparse
import csv
import json
import sys


def fail(msg):
    print(f"check_submission: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="the Kaggle-layout root the submission is for")
    ap.add_argument("--report", required=True, help="the ensemble's report.json")
    ap.add_argument("--tolerance", type=float, default=0.03,
                    help="largest allowed drop of accuracy between steps (also at least 2 wells)")
    ap.add_argument("submission")
    a = ap.parse_args()

    with open(f"{a.data}/test.csv", newline="") as f:
        wells = {r["id_code"]: (r["experiment"], r["plate"]) for r in csv.DictReader(f)}
    with open(a.report) as f:
        report = json.load(f)
    treatments = report["treatments"]

    with open(a.submission, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["id_code", "sirna"]:
        fail(f"{a.submission}: header must be id_code,sirna, found {rows[:1]}")
    body = rows[1:]
    ids = [r[0] for r in body]
    if ids != sorted(ids):
        fail(f"{a.submission}: rows are not sorted by id_code")
    if set(ids) != set(wells) or len(ids) != len(wells):
        fail(f"{a.submission}: {len(ids)} rows for {len(wells)} test wells "
             f"(missing {sorted(set(wells) - set(ids))[:3]}, extra {sorted(set(ids) - set(wells))[:3]})")
    seen = {}
    for line, (id_code, sirna) in enumerate(body, start=2):
        if not sirna.isdigit() or int(sirna) >= treatments:
            fail(f"{a.submission} line {line}: sirna {sirna!r} is not a treatment class 0..{treatments - 1}")
        plate = wells[id_code]
        if sirna in seen.setdefault(plate, set()):
            fail(f"{a.submission} line {line}: sirna {sirna} twice on plate {plate}")
        seen[plate].add(sirna)

    for split in ("val", "test"):
        # A split without wells (validation under --cv-number -1) has no steps.
        steps = [(s["label"], s[split]) for s in report["steps"]
                 if s.get(split) and s[split].get("wells")]
        for (l0, s0), (l1, s1) in zip(steps, steps[1:]):
            allowed = max(a.tolerance, 2 / s1["wells"])
            if s1["accuracy"] < s0["accuracy"] - allowed:
                fail(f"{split}: accuracy fell from {s0['accuracy']:.4f} ({l0}) to "
                     f"{s1['accuracy']:.4f} ({l1}), more than {allowed:.4f}")
        line = "  ".join(f"{l}: {s['accuracy']:.4f}" for l, s in steps)
        print(f"check_submission: {split}: {line or 'no wells'}")
    print(f"check_submission: {a.submission}: {len(body)} rows, {len(seen)} plates, steps within noise")


if __name__ == "__main__":
    main()
