#!/usr/bin/env python3
"""Whole-command figures for the release binary (stdlib only).

usage: python3 scripts/bench_cli.py [--bin target/release/imagebot] [--lines 10000] [--runs 7]

- chat --json throughput: a file of N messages (the turns of tests/data/*.jsonl,
  repeated) piped through one `imagebot chat --json`; median messages/s over runs.
- ask start-to-answer: `imagebot ask --json QUESTION`, median wall time over runs.
- peak memory: max resident set size of the chat run (from wait4's rusage).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time, resource

def turns(paths):
    out = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.extend(json.loads(line)["turns"])
    return out

def run_rusage(cmd, stdin_path):
    with open(stdin_path, "rb") as fin, open(os.devnull, "wb") as fout:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=fin, stdout=fout)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    if status != 0:
        sys.exit("command failed: %s" % cmd)
    return wall, ru.ru_maxrss  # KiB on Linux

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/imagebot")
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    msgs = turns(["tests/data/cases.jsonl", "tests/data/holdout.jsonl"])
    lines = [msgs[i % len(msgs)] for i in range(a.lines)]
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    walls, rss = [], []
    for _ in range(a.runs):
        # The engine alone; recording (escalations and unanswered questions to SQLite) is measured below.
        w, r = run_rusage([a.bin, "--no-record", "chat", "--json"], path)
        walls.append(w)
        rss.append(r)
    med = statistics.median(walls)
    print("chat --json: %d messages, median %.1f ms => %.0f messages/s (runs: %s)" % (
        a.lines, 1000 * med, a.lines / med, ", ".join("%.0f" % (1000 * w) for w in walls)))
    print("chat --json: peak memory (max RSS) %.1f MB" % (max(rss) / 1024))
    asks = []
    for _ in range(max(a.runs, 15)):
        t0 = time.perf_counter()
        subprocess.run([a.bin, "--no-record", "ask", "--json", "自定义镜像每个地域最多几个？"], check=True, stdout=subprocess.DEVNULL)
        asks.append(time.perf_counter() - t0)
    print("ask start to answer: median %.1f ms, max %.1f ms over %d runs" % (
        1000 * statistics.median(asks), 1000 * max(asks), len(asks)))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db")
        w, _ = run_rusage([a.bin, "--db", db, "chat", "--json"], path)
        out = subprocess.run([a.bin, "--db", db, "triage", "export", "--format", "jsonl"],
                             check=True, capture_output=True).stdout
        n = out.count(b"\n")
        print("chat --json recording: %d messages, %d recorded, %.1f ms => %.0f messages/s, %.2f ms a record" % (
            a.lines, n, 1000 * w, a.lines / w, 1000 * w / max(n, 1)))
    os.unlink(path)

if __name__ == "__main__":
    main()
