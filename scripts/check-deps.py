#!/usr/bin/python3
"""Checks that the control plane's components depend on each other one way: no cycle in the
graph of who calls whom, read from the symbols of the built objects (nm), not from #includes
(a header shared for its types is no call).

A component is a directory of controlplane/ (base, mgmt, turn, media, web, webbridge3,
callbridge) or one file at its top (appliance.c, turn_glue.c, ..., edged.c). An edge A -> B
means an object of A uses a function or variable an object of B defines. Prints the graph and
exits 1, naming the cycle, if there is one.

usage: scripts/check-deps.py [BUILD_DIR]   (default: build)
"""
import os
import re
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"


def component(obj):
    """The component of an object file, from meson's object path, or None (not ours)."""
    m = re.search(r"controlplane/lib[a-z_0-9]+\.a\.p/([a-z0-9]+)_[^/]+\.c\.o$", obj)
    if m:
        return m.group(1)
    m = re.search(r"edged\.p/controlplane_([a-z_0-9]+)\.c\.o$", obj)
    if m:
        return m.group(1) + ".c"
    return None


objs = []
for root, _, files in os.walk(build):
    for f in files:
        path = os.path.join(root, f)
        if f.endswith(".c.o") and component(path):
            objs.append(path)
if not objs:
    sys.exit(f"check-deps: no control-plane objects under {build}/ (build it first)")

defined, used = {}, {}
for o in objs:
    comp = component(o)
    out = subprocess.run(["nm", "--defined-only", "-g", o], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            defined.setdefault(parts[2], set()).add(comp)
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True, check=True).stdout
    used.setdefault(comp, set()).update(line.split()[-1] for line in out.splitlines() if line.strip())

edges = {c: set() for c in used}
for comp, syms in used.items():
    for s in syms:
        for d in defined.get(s, ()):
            if d != comp:
                edges[comp].add(d)
                edges.setdefault(d, set())

# Tarjan's strongly connected components: any with more than one member is a cycle.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop()
            on.discard(w)
            scc.append(w)
            if w == v:
                break
        sccs.append(scc)


for v in sorted(edges):
    if v not in index:
        visit(v)

for c in sorted(edges):
    print(f"  {c:16} -> {', '.join(sorted(edges[c])) or '(nothing of ours)'}")
cycles = [sorted(s) for s in sccs if len(s) > 1]
if cycles:
    for s in cycles:
        why = [f"{a} -> {b} ({', '.join(sorted(x for x in used[a] if b in defined.get(x, ()))[:3])})"
               for a in s for b in sorted(edges[a]) if b in s]
        print("check-deps: a cycle: " + "; ".join(why))
    sys.exit(1)
print(f"check-deps: {len(edges)} components, no cycle")
