#!/usr/bin/env python3
"""Summarises tools/bench/run_paired.sh: the serving targets' ratios per round (each from figures
taken back to back) and their medians, which is what the targets are checked against on a machine
whose speed drifts between runs. Prints a table, writes <dir>/paired-summary.json and, with --doc,
replaces the doc's <!-- BEGIN GENERATED paired --> ... <!-- END GENERATED paired --> block.
A round with a missing file or a failed request is reported and left out of the medians.
Standard library only.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import sys

TARGETS = [
    # key, description, op, target
    ("serve_over_raw_g5", "throughput at 16 streams / raw limit (guidance 5)", ">=", 0.9),
    ("serve_over_sequential_g1", "throughput at 16 streams / sequential (guidance 1)", ">=", 2.5),
    ("serve_over_sequential_g5", "throughput at 16 streams / sequential (guidance 5)", ">=", 1.6),
    ("c1_latency_over_raw_single", "latency p50 at concurrency 1 / raw single generation", "<=",
     1.05),
    ("first_preview_steps_p95_c1", "first preview after admission, p95, in step times (c = 1)",
     "<=", 2.0),
    ("first_preview_steps_p95_top", "first preview after admission, p95, in step times (c = 16)",
     "<=", 2.0),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def only_point(doc):
    points = [p for p in doc["points"] if p["kind"] in ("closed", "sequential")]
    if len(points) != 1:
        raise ValueError(f"expected one closed-loop point, found {len(points)}")
    p = points[0]
    if p["errors"]:
        raise ValueError(f"{p['errors']} failed requests")
    return p


def round_ratios(d, r):
    raw5, raw1 = load(f"{d}/round-{r}-raw-g5.json"), load(f"{d}/round-{r}-raw-g1.json")
    c1 = only_point(load(f"{d}/round-{r}-serve-g5-c1.json"))
    top5 = only_point(load(f"{d}/round-{r}-serve-g5-top.json"))
    top1 = only_point(load(f"{d}/round-{r}-serve-g1-top.json"))
    seq5 = only_point(load(f"{d}/round-{r}-sequential-g5.json"))
    seq1 = only_point(load(f"{d}/round-{r}-sequential-g1.json"))
    return {
        "raw_limit_g5": raw5["generation"]["images_per_second"],
        # p50 of the raw runs against the served p50 (one generation varies +-20% here).
        "raw_single_g5": raw5["single"]["seconds"]["p50"],
        "serve_top_g5": top5["images_per_second"],
        "serve_top_g1": top1["images_per_second"],
        "sequential_g5": seq5["images_per_second"],
        "sequential_g1": seq1["images_per_second"],
        "c1_latency_p50": c1["latency_seconds"]["p50"],
        "serve_over_raw_g5": top5["images_per_second"] / raw5["generation"]["images_per_second"],
        "serve_over_raw_g1": top1["images_per_second"] / raw1["generation"]["images_per_second"],
        "serve_over_sequential_g5": top5["images_per_second"] / seq5["images_per_second"],
        "serve_over_sequential_g1": top1["images_per_second"] / seq1["images_per_second"],
        "c1_latency_over_raw_single": c1["latency_seconds"]["p50"] / raw5["single"]["seconds"]["p50"],
        "first_preview_steps_p95_c1": c1["time_to_first_preview_steps"]["p95"],
        "first_preview_steps_p95_top": top5["time_to_first_preview_steps"]["p95"],
    }


def fmt(v):
    return "-" if v is None else f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="docs/bench/paired")
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--doc", default=None)
    ap.add_argument("--command", default="tools/bench/run_paired.sh")
    args = ap.parse_args()

    rounds, skipped = [], []
    for r in range(1, args.rounds + 1):
        try:
            rounds.append((r, round_ratios(args.dir, r)))
        except (OSError, ValueError, KeyError, ZeroDivisionError) as e:
            skipped.append(f"round {r}: {e}")
    if not rounds:
        sys.exit("paired_summary: no complete round; " + "; ".join(skipped))

    keys = ["raw_limit_g5", "serve_top_g5", "sequential_g5", "serve_top_g1", "sequential_g1",
            "raw_single_g5", "c1_latency_p50", "serve_over_raw_g5", "serve_over_raw_g1",
            "serve_over_sequential_g5", "serve_over_sequential_g1", "c1_latency_over_raw_single",
            "first_preview_steps_p95_c1", "first_preview_steps_p95_top"]
    medians = {k: statistics.median(v[k] for _, v in rounds) for k in keys}
    results = []
    for key, what, op, target in TARGETS:
        value = medians[key]
        ok = value >= target if op == ">=" else value <= target
        lo = min(v[key] for _, v in rounds)
        hi = max(v[key] for _, v in rounds)
        results.append({"what": what, "median": value, "min": lo, "max": hi, "op": op,
                        "target": target, "status": "met" if ok else "**missed**"})

    with open(os.path.join(args.dir, f"round-{rounds[0][0]}-raw-g5.json")) as f:
        raw = json.load(f)
    lines = [f"Measured {datetime.date.today().isoformat()} with `{args.command}`: "
             f"{len(rounds)} rounds (each: raw limit and one raw generation, then a fresh "
             f"ldm-server at concurrency 1 and 16 and sequential serving, back to back), raw and "
             f"server both with {raw['torch_threads']} torch threads x "
             f"{raw.get('step_threads', 1)} step threads. Raw JSON: `{args.dir}/`."]
    if skipped:
        lines.append("Left out: " + "; ".join(skipped) + ".")
    lines += ["", "| metric | median | min | max | target | status |", "|---|---|---|---|---|---|"]
    for t in results:
        lines.append(f"| {t['what']} | {fmt(t['median'])} | {fmt(t['min'])} | {fmt(t['max'])} "
                     f"| {t['op']} {t['target']} | {t['status']} |")
    lines += ["", "| round | raw limit g5 img/s | 16 streams g5 img/s | sequential g5 img/s "
              "| 16 streams g1 img/s | sequential g1 img/s | raw single g5 p50 s | c = 1 p50 s |",
              "|---|---|---|---|---|---|---|---|"]
    for r, v in rounds:
        lines.append(f"| {r} | {fmt(v['raw_limit_g5'])} | {fmt(v['serve_top_g5'])} | "
                     f"{fmt(v['sequential_g5'])} | {fmt(v['serve_top_g1'])} | "
                     f"{fmt(v['sequential_g1'])} | {fmt(v['raw_single_g5'])} | "
                     f"{fmt(v['c1_latency_p50'])} |")
    body = "\n".join(lines)
    print(body)
    with open(f"{args.dir}/paired-summary.json", "w") as f:
        json.dump({"rounds": [dict(v, round=r) for r, v in rounds], "medians": medians,
                   "targets": results, "skipped": skipped}, f, indent=1)
    if args.doc:
        with open(args.doc) as f:
            text = f.read()
        pattern = re.compile(r"(<!-- BEGIN GENERATED paired -->\n).*?(<!-- END GENERATED paired -->)",
                             re.S)
        if not pattern.search(text):
            sys.exit("paired_summary: no GENERATED paired block in the doc")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
        with open(args.doc, "w") as f:
            f.write(text)
        print(f"paired_summary: updated {args.doc}")


if __name__ == "__main__":
    main()
