#!/usr/bin/env bash
# Fuzz the engine and the knowledge loader with cargo-fuzz (libFuzzer).
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# Needs `cargo install cargo-fuzz`. cargo-fuzz passes nightly flags
# (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
mkdir -p corpus/answer corpus/knowledge
# Seed the answer corpus with the labelled questions (one conversation a file).
python3 - <<'PY'
import json, glob, os
n = 0
for path in glob.glob("../tests/data/*.jsonl"):
    for line in open(path, encoding="utf-8"):
        if line.strip():
            n += 1
            with open("corpus/answer/seed%04d" % n, "w", encoding="utf-8") as f:
                f.write("\n".join(json.loads(line)["turns"]))
for i, path in enumerate(sorted(glob.glob("../knowledge/**/*.toml", recursive=True))):
    with open(path, "rb") as src, open("corpus/knowledge/seed%02d" % i, "wb") as dst:
        dst.write(bytes([i]) + src.read())
PY
for target in answer knowledge; do
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=2048
done
