#!/usr/bin/env python3
"""Import circles between the workspace's Rust files (stdlib only).

usage: python3 scripts/import_cycles.py        # exit 1 and the circles, if any

The graph: an edge from file A to file B when A names an item of B's module
(`use crate::x::y`, `use super::z`, `use imagebot_core::w`, or the same paths
written inline). A path to an item the crate root re-exports (`crate::Reply`)
goes to the module that defines it. Edges between a module and its own
descendants (a parent and its child modules) are left out, as the mod tree
already links them. Test modules (`#[cfg(test)]` to the end) are skipped.
"""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = {"imagebot": "src"}
for name in os.listdir(os.path.join(ROOT, "crates")):
    CRATES[name.replace("-", "_")] = os.path.join("crates", name, "src")

def modules(crate, src):
    """module path tuple -> file, for one crate."""
    out = {}
    base = os.path.join(ROOT, src)
    for dirpath, _, files in os.walk(base):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), base)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            out[(crate,) + tuple(rel)] = os.path.join(src, *os.path.relpath(os.path.join(dirpath, f), base).split(os.sep))
    return out

MODS = {}
for c, s in CRATES.items():
    MODS.update(modules(c, s))

def code(path):
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    cut = text.find("#[cfg(test)]")
    text = text if cut < 0 else text[:cut]
    return re.sub(r"//[^\n]*", "", text)

def expand_use(body):
    """`a::{b, c::{d}}` -> [a::b, a::c::d]"""
    body = body.replace(" ", "").replace("\n", "")
    m = re.match(r"^(.*?)\{(.*)\}$", body)
    if not m:
        return [body]
    prefix, inner = m.groups()
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur); cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p:
            out.extend(prefix + e for e in expand_use(p))
    return out

def reexports(crate):
    """item name -> module tuple, from the crate root's `pub use`."""
    root = MODS.get((crate,))
    out = {}
    if not root:
        return out
    for body in re.findall(r"pub use\s+([^;]+);", code(root)):
        for p in expand_use(body):
            segs = [s for s in p.split("::") if s]
            name = segs[-1].split(" as ")[-1]
            out[name] = (crate,) + tuple(segs[:-1])
    return out

REEXPORTS = {c: reexports(c) for c in CRATES}

def resolve(mod, segs):
    crate = mod[0]
    if segs[0] == "crate":
        cur = (crate,); segs = segs[1:]
    elif segs[0] == "super":
        cur = mod
        while segs and segs[0] == "super":
            cur = cur[:-1]; segs = segs[1:]
    elif segs[0] == "self":
        cur = mod; segs = segs[1:]
    elif segs[0] in CRATES:
        cur = (segs[0],); segs = segs[1:]
    else:
        return None
    best = cur if cur in MODS else None
    for s in segs:
        if cur + (s,) in MODS:
            cur = cur + (s,); best = cur
        else:
            if len(cur) == 1 and s in REEXPORTS.get(cur[0], {}):
                best = REEXPORTS[cur[0]][s]
                while best not in MODS and len(best) > 1:
                    best = best[:-1]
            break
    return best

def related(a, b):
    return a[: len(b)] == b or b[: len(a)] == a

edges = {}
for mod, path in MODS.items():
    text = code(path)
    paths = []
    for body in re.findall(r"\buse\s+([^;]+);", text):
        paths.extend(expand_use(body))
    paths.extend(re.findall(r"\b((?:crate|super|imagebot_\w+)(?:::\w+)+)", text))
    for p in paths:
        segs = [s.split(" as ")[0] for s in p.split("::") if s]
        if not segs:
            continue
        target = resolve(mod, segs)
        if target and target != mod and not related(mod, target):
            edges.setdefault(mod, set()).add(target)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1
    stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)
sys.setrecursionlimit(10000)
for v in list(MODS):
    if v not in index:
        visit(v)
count = sum(len(e) for e in edges.values())
if sccs:
    for comp in sccs:
        print("import circle:", " <-> ".join(MODS[m] for m in comp))
    sys.exit(1)
print(f"no import circles: {len(MODS)} files, {count} import edges between them")
