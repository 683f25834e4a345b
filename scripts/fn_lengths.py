#!/usr/bin/env python3
"""The longest functions of a folder of rustfmt-formatted Rust (stdlib only).

usage: python3 scripts/fn_lengths.py DIR [--max N] [--top K]

A function runs from its `fn` line to the closing brace at the same
indentation (rustfmt's layout). Test modules are included. With --max, exit 1
if any function is longer than N lines.
"""
import argparse, os, re, sys

FN = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")

def functions(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        indent = m.group(1)
        # A declaration without a body (trait method) ends with `;`.
        j = i
        while j < len(lines) and not lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= len(lines) or lines[j].rstrip().endswith(";"):
            continue
        if lines[j].rstrip().endswith("{}"):
            continue
        end = j + 1
        while end < len(lines) and lines[end] != indent + "}":
            end += 1
        yield m.group(7), i + 1, end - i + 1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--max", type=int)
    ap.add_argument("--top", type=int, default=5)
    a = ap.parse_args()
    found = []
    for dirpath, _, files in os.walk(a.dir):
        for f in sorted(files):
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                found.extend((n, name, p, line) for name, line, n in functions(p))
    found.sort(reverse=True)
    for n, name, p, line in found[: a.top]:
        print(f"{n:5} lines  {name}  {p}:{line}")
    if a.max is not None:
        over = [f for f in found if f[0] > a.max]
        if over:
            print(f"{len(over)} function(s) over {a.max} lines")
            sys.exit(1)
        print(f"every function of {len(found)} is at most {a.max} lines")

main()
