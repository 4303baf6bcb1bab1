#!/usr/bin/env python3
"""Renders ldm-bench JSON (written by tools/bench/run_benchmarks.sh and run_sd15.sh) into the
tables of docs/BENCHMARKS.md and the concurrency plot (gnuplot, tools/bench/plot_benchmarks.gp).

The doc keeps everything outside its generated blocks; each block is replaced whole:
  <!-- BEGIN GENERATED serve -->  ... <!-- END GENERATED serve -->   (run_benchmarks.sh)
  <!-- BEGIN GENERATED sd15 -->   ... <!-- END GENERATED sd15 -->    (run_sd15.sh)
  <!-- BEGIN GENERATED malloc -->  ... <!-- END GENERATED malloc -->  (sd15-64 with --malloc system)
A block whose JSON files are missing is left as it is. Also writes <bench-dir>/summary.json with
the ratios and the target checks. Standard library only (json, argparse, subprocess).
"""
import argparse
import datetime
import json
import math
import os
import re
import subprocess
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def num(v, fmt="{:.3f}"):
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "-"
    return fmt.format(v)


def point(doc, concurrency):
    for p in doc["points"]:
        if p["concurrency"] == concurrency and p["kind"] in ("closed", "sequential"):
            return p
    return None


def ratio(a, b):
    return a / b if a is not None and b else None


def check(value, op, target):
    if value is None:
        return "not measured"
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "**missed**"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def serve_rows(doc, raw_limit):
    rows = []
    for p in doc["points"]:
        load_ = f"{p['rate']:.2f} req/s" if p["kind"] == "open" else str(p["concurrency"])
        lat = p["latency_seconds"]
        ttfp = p["time_to_first_preview_seconds"]
        rows.append([
            p["kind"], load_, p["requests"], num(p["images_per_second"]),
            num(ratio(p["images_per_second"], raw_limit), "{:.2f}"),
            num(lat["p50"]), num(lat["p95"]), num(lat["p99"]),
            num(p["queue_wait_seconds"]["p50"]), num(ttfp["p50"]), num(ttfp["p95"]),
            num(p["time_to_first_preview_steps"]["p95"], "{:.2f}"),
            num(p["step_seconds"]["p50"], "{:.4f}"), num(p["batch_rows_max"]["p50"], "{:.0f}"),
            p["errors"]])
    return rows


SERVE_HEADER = ["kind", "load", "requests", "images/s", "x raw limit", "p50 s", "p95 s", "p99 s",
                "queue p50 s", "first preview p50 s", "first preview p95 s",
                "first preview p95 (steps)", "step p50 s", "batch rows p50", "errors"]


def render_serve(d, args):
    raw5, raw1 = load(f"{d}/raw-g5.json"), load(f"{d}/raw-g1.json")
    s5, s1 = load(f"{d}/serve-g5.json"), load(f"{d}/serve-g1.json")
    q5, q1 = load(f"{d}/sequential-g5.json"), load(f"{d}/sequential-g1.json")
    mixed, open_ = load(f"{d}/serve-mixed.json"), load(f"{d}/serve-open.json")
    if not all([raw5, raw1, s5, s1, q5, q1]):
        return None, None
    limit5 = raw5["generation"]["images_per_second"]
    limit1 = raw1["generation"]["images_per_second"]
    top = max(p["concurrency"] for p in s5["points"])
    c16 = 16 if point(s5, 16) else top
    p5, p1 = point(s5, c16), point(s1, c16)
    seq5, seq1 = q5["points"][0], q1["points"][0]
    c1 = point(s5, 1)
    # Medians on both sides: one generation's time varies by +-20% on a shared VM, and the
    # served latency is a p50 too.
    single = raw5["single"]["seconds"]["p50"]
    summary = {
        "concurrency": c16,
        "raw_limit_images_per_second_g5": limit5,
        "raw_limit_images_per_second_g1": limit1,
        "serve_images_per_second_g5": p5["images_per_second"],
        "serve_images_per_second_g1": p1["images_per_second"],
        "sequential_images_per_second_g5": seq5["images_per_second"],
        "sequential_images_per_second_g1": seq1["images_per_second"],
        "serve_over_raw_g5": ratio(p5["images_per_second"], limit5),
        "serve_over_sequential_g5": ratio(p5["images_per_second"], seq5["images_per_second"]),
        "serve_over_sequential_g1": ratio(p1["images_per_second"], seq1["images_per_second"]),
        "c1_latency_p50_seconds": c1["latency_seconds"]["p50"] if c1 else None,
        "raw_single_seconds": single,
        "c1_latency_over_raw_single": ratio(c1["latency_seconds"]["p50"], single) if c1 else None,
        "first_preview_steps_p95_c1": c1["time_to_first_preview_steps"]["p95"] if c1 else None,
        "first_preview_steps_p95_top": p5["time_to_first_preview_steps"]["p95"],
    }
    targets = [
        (f"throughput at {c16} streams / raw limit (guidance 5)", summary["serve_over_raw_g5"],
         ">=", 0.9),
        (f"throughput at {c16} streams / sequential (guidance 1)",
         summary["serve_over_sequential_g1"], ">=", 2.5),
        (f"throughput at {c16} streams / sequential (guidance 5)",
         summary["serve_over_sequential_g5"], ">=", 1.6),
        ("latency p50 at concurrency 1 / raw single generation",
         summary["c1_latency_over_raw_single"], "<=", 1.05),
        ("first preview after admission, p95, in step times (concurrency 1)",
         summary["first_preview_steps_p95_c1"], "<=", 2.0),
        (f"first preview after admission, p95, in step times ({c16} streams)",
         summary["first_preview_steps_p95_top"], "<=", 2.0),
    ]
    summary["targets"] = [{"what": w, "value": v, "op": op, "target": t, "status": check(v, op, t)}
                          for w, v, op, t in targets]
    m = raw5["machine"]
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `{args.command}` on {m['cpu']} "
        f"({m['logical_cores']} logical cores, {m['kernel']}), torch {raw5['torch_version']}, "
        f"{raw5['torch_threads']} torch threads x {raw5.get('step_threads', 1)} step threads. "
        f"Model `{args.model}`, "
        f"{raw5['size']}x{raw5['size']}, {raw5['steps']} steps, sampler {raw5['sampler']}; "
        f"server `--max-batch-rows {raw5['best_rows']}`. Raw JSON: `{d}/`.",
        "",
        "### Targets",
        "",
        table(["metric", "measured", "target", "status"],
              [[w, num(v, "{:.2f}"), f"{op} {t}", check(v, op, t)] for w, v, op, t in targets]),
        "",
        "### Throughput: serving vs raw limit vs sequential",
        "",
        table(["guidance", "raw limit images/s (batch)", f"serve at {c16} streams images/s",
               "x raw limit", "sequential images/s", "x sequential"],
              [["5", f"{num(limit5)} ({raw5['generation']['batch_images']} images)",
                num(p5["images_per_second"]), num(summary["serve_over_raw_g5"], "{:.2f}"),
                num(seq5["images_per_second"]), num(summary["serve_over_sequential_g5"], "{:.2f}")],
               ["1", f"{num(limit1)} ({raw1['generation']['batch_images']} images)",
                num(p1["images_per_second"]),
                num(ratio(p1["images_per_second"], limit1), "{:.2f}"),
                num(seq1["images_per_second"]), num(summary["serve_over_sequential_g1"], "{:.2f}")]]),
        "",
        "### Server overhead at concurrency 1",
        "",
        table(["", "seconds"],
              [[f"raw single generation (p50 of {raw5['single']['runs']} runs; create + steps + "
                "decode + PNG)", num(single)],
               ["served, concurrency 1, latency p50", num(summary["c1_latency_p50_seconds"])],
               ["ratio", num(summary["c1_latency_over_raw_single"], "{:.3f}")],
               ["raw step time at 1 image (p50)", num(raw5["single"]["step_seconds"]["p50"], "{:.4f}")]]),
        "",
        "### Raw engine: UNet steps by batch size",
        "",
        table(["rows", "step s", "steps/s", "rows/s"],
              [[p["rows"], num(p["step_seconds"], "{:.4f}"), num(p["steps_per_second"], "{:.2f}"),
                num(p["rows_per_second"], "{:.1f}")] for p in raw5["unet_steps"]]),
        "",
        f"Full generations at the best batch: {raw5['generation']['images']} images in waves of "
        f"{raw5['generation']['batch_images']}: create {num(raw5['generation']['create_seconds'])} s, "
        f"denoise {num(raw5['generation']['denoise_seconds'])} s, decode "
        f"{num(raw5['generation']['decode_seconds'])} s, PNG {num(raw5['generation']['encode_seconds'])} s.",
        "",
        "### Latency by concurrency (guidance 5)",
        "",
        table(SERVE_HEADER, serve_rows(s5, limit5)),
        "",
        "### Latency by concurrency (guidance 1)",
        "",
        table(SERVE_HEADER, serve_rows(s1, limit1)),
        "",
        "### Sequential (one request at a time)",
        "",
        table(SERVE_HEADER, serve_rows(q5, limit5) + serve_rows(q1, limit1)),
    ]
    if open_:
        lines += ["", "### Open loop (Poisson arrivals, guidance 5)", "",
                  table(SERVE_HEADER, serve_rows(open_, limit5))]
    if mixed:
        mx = mixed["mix"]
        lines += ["", "### Mixed workload", "",
                  f"Samplers {', '.join(mx['samplers'])}; steps {mx['steps']}; guidance "
                  f"{mx['guidance']}; conditioning {', '.join(mx['conditioning'])}; sizes "
                  f"{', '.join(mx['sizes'])}; {mx['prompts']} prompts. The x raw limit column "
                  "compares with the plain guidance-5 limit, so it is indicative only.", "",
                  table(SERVE_HEADER, serve_rows(mixed, limit5))]
    lines += ["", f"![throughput and p95 latency vs concurrency]({os.path.relpath(args.plot, os.path.dirname(args.doc))})"]
    return "\n".join(lines), summary


def plot(d, args):
    s5, s1 = load(f"{d}/serve-g5.json"), load(f"{d}/serve-g1.json")
    raw5, raw1 = load(f"{d}/raw-g5.json"), load(f"{d}/raw-g1.json")
    data = os.path.join(d, "concurrency.dat")
    with open(data, "w") as f:
        f.write("# concurrency img/s(g5) p95(g5) img/s(g1) p95(g1)\n")
        for p5 in s5["points"]:
            p1 = point(s1, p5["concurrency"]) or {"images_per_second": None,
                                                   "latency_seconds": {"p95": None}}
            vals = [p5["concurrency"], p5["images_per_second"], p5["latency_seconds"]["p95"],
                    p1["images_per_second"], p1["latency_seconds"]["p95"]]
            f.write(" ".join("NaN" if v is None else str(v) for v in vals) + "\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot_benchmarks.gp")
    os.makedirs(os.path.dirname(args.plot) or ".", exist_ok=True)
    subprocess.run(["gnuplot", "-e", f"datafile='{data}'; outfile='{args.plot}'; "
                    f"limit5={raw5['generation']['images_per_second']}; "
                    f"limit1={raw1['generation']['images_per_second']}", script], check=True)


def render_sd15(d):
    rows, docs = [], []
    for name in sorted(os.listdir(d)):
        m = re.fullmatch(r"sd15-(\d+)\.json", name)
        if m:
            docs.append((int(m.group(1)), load(os.path.join(d, name))))
    if not docs:
        return None
    docs.sort()
    for size, r in docs:
        s = r["single"]
        time_rss = None
        try:
            with open(os.path.join(d, f"sd15-{size}.time")) as f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
                time_rss = int(m.group(1)) * 1024 / 1e9 if m else None
        except FileNotFoundError:
            pass
        rows.append([f"{size}x{size}", num(s["seconds"]["mean"], "{:.2f}"),
                     num(s["step_seconds"]["p50"], "{:.3f}"), s["model_calls"],
                     num(s["last_create_seconds"], "{:.2f}"), num(s["last_decode_seconds"], "{:.2f}"),
                     f"{r['weight_bytes'] / 1e9:.2f}", f"{r['peak_rss_bytes'] / 1e9:.2f}",
                     num(time_rss, "{:.2f}"),
                     num(r["peak_rss_over_weight_bytes"], "{:.2f}"), num(r["load_seconds"], "{:.1f}")])
    r0 = docs[0][1]
    m = r0["machine"]
    checks = []
    for size, r in docs:
        if size == 64:
            secs = r["single"]["seconds"]["mean"]
            checks.append(f"Targets at 64x64: {secs:.2f} s per image (<= 20: "
                          f"{check(secs, '<=', 20.0)}), peak RSS {r['peak_rss_over_weight_bytes']:.2f}"
                          f" x the weight bytes (<= 1.25: "
                          f"{check(r['peak_rss_over_weight_bytes'], '<=', 1.25)}).")
    head = (f"Measured {datetime.date.today().isoformat()} on {m['cpu']} ({m['logical_cores']} logical "
            f"cores), torch {r0['torch_version']}, {r0['torch_threads']} threads, {r0['dtype']}, "
            f"sampler {r0['sampler']}, {r0['steps']} steps, guidance {r0['guidance']}, batch 1.")
    return "\n".join([head, "", table(
        ["size", "s / image", "s / UNet call", "UNet calls", "prompt + init s", "VAE decode s",
         f"weights GB ({r0['dtype']}, as loaded)", "peak RSS GB", "peak RSS GB (time -v)", "peak RSS / weights",
         "load s"], rows)] + ([""] + checks if checks else []))


def time_field(path, label):
    """A field of /usr/bin/time -v's report, as a string; None when missing."""
    try:
        with open(path) as f:
            m = re.search(rf"{re.escape(label)}: (\S+)", f.read())
            return m.group(1) if m else None
    except FileNotFoundError:
        return None


def render_malloc(d):
    """Before/after of the malloc policy: sd15-64-malloc-system.json vs sd15-64.json."""
    before, after = load(f"{d}/sd15-64-malloc-system.json"), load(f"{d}/sd15-64.json")
    if not before or not after:
        return None
    rows = []
    for label, get in [
        ("seconds per image (mean)", lambda r, t: num(r["single"]["seconds"]["mean"], "{:.2f}")),
        ("seconds per UNet call (p50)", lambda r, t: num(r["single"]["step_seconds"]["p50"], "{:.3f}")),
        ("process user time, s (load + images)", lambda r, t: time_field(t, "User time (seconds)") or "-"),
        ("process system time, s (load + images)", lambda r, t: time_field(t, "System time (seconds)") or "-"),
        ("peak RSS, GB", lambda r, t: f"{r['peak_rss_bytes'] / 1e9:.2f}"),
    ]:
        rows.append([label, get(before, f"{d}/sd15-64-malloc-system.time"),
                     get(after, f"{d}/sd15-64.time")])
    return "\n".join([
        f"SD 1.5 shapes, 64x64, Euler, 20 steps, CFG 7.5, {after['torch_threads']} threads, "
        f"{before['single']['runs']} and {after['single']['runs']} images:", "",
        table(["", "`--malloc system` (before)", "`--malloc heap` (after)"], rows)])


def replace_block(text, name, body):
    pattern = re.compile(rf"(<!-- BEGIN GENERATED {name} -->\n).*?(<!-- END GENERATED {name} -->)",
                         re.S)
    if not pattern.search(text):
        sys.exit(f"render_benchmarks: no GENERATED {name} block in the doc")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-dir", default="docs/bench")
    ap.add_argument("--doc", default="docs/BENCHMARKS.md")
    ap.add_argument("--plot", default="docs/images/bench-concurrency.png")
    ap.add_argument("--model", default="models/toy-shapes")
    ap.add_argument("--command", default="tools/bench/run_benchmarks.sh")
    args = ap.parse_args()
    with open(args.doc) as f:
        text = f.read()
    body, summary = render_serve(args.bench_dir, args)
    if body is not None:
        text = replace_block(text, "serve", body)
        plot(args.bench_dir, args)
        with open(os.path.join(args.bench_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        for t in summary["targets"]:
            print(f"{t['status']:>12}  {t['what']}: {num(t['value'], '{:.3f}')} {t['op']} {t['target']}")
    sd15 = render_sd15(args.bench_dir)
    if sd15 is not None:
        text = replace_block(text, "sd15", sd15)
    malloc = render_malloc(args.bench_dir)
    if malloc is not None:
        text = replace_block(text, "malloc", malloc)
    with open(args.doc, "w") as f:
        f.write(text)
    print(f"render_benchmarks: updated {args.doc}")


if __name__ == "__main__":
    main()
