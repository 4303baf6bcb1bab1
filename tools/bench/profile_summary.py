#!/usr/bin/env python3
"""Summarises the Chrome traces of `ldm-bench raw --profile-dir DIR` (rows-<n>.json): the
operators with the most self time (time not spent in nested operators on the same thread), as a
share of the profiled time, per batch size. Standard library only.

  /usr/bin/python3 tools/bench/profile_summary.py DIR [--top 15]
"""
import argparse
import collections
import json
import os
import re


def self_times(events):
    """Self time per operator name; events are complete ("X") events of one thread."""
    out = collections.Counter()
    events = sorted(events, key=lambda e: (e["ts"], -e["dur"]))
    stack = []  # [end, name, child time]
    def close(until):
        while stack and stack[-1][0] <= until:
            end, name, child, dur = stack.pop()
            out[name] += dur - child
            if stack:
                stack[-1][2] += dur
    for e in events:
        close(e["ts"])
        stack.append([e["ts"] + e["dur"], e["name"], 0.0, e["dur"]])
    close(float("inf"))
    return out


def load(path):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    by_tid = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            by_tid[e.get("tid")].append(e)
    total = collections.Counter()
    for evs in by_tid.values():
        total.update(self_times(evs))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    files = sorted((int(m.group(1)), f) for f in os.listdir(args.dir)
                   if (m := re.fullmatch(r"rows-(\d+)\.json", f)))
    for rows, f in files:
        t = load(os.path.join(args.dir, f))
        total = sum(t.values())
        print(f"rows {rows}: {total / 1e3:.1f} ms profiled")
        for name, us in t.most_common(args.top):
            print(f"  {100 * us / total:5.1f}%  {us / 1e3:9.2f} ms  {name}")


if __name__ == "__main__":
    main()
