#!/usr/bin/python3
"""Summary of bench/turn_saturation.sh: reads the runs' edgeload JSON files, writes the markdown
result and a bar chart of relayed packets per server CPU-second.
Usage: turn_saturation_report.py DIR OUT.md BIG SECONDS IDLE_EDGED IDLE_COTURN MACHINE"""
import datetime
import json
import os
import sys

d, md, big, dur, idle_e, idle_c, machine = sys.argv[1:8]
SERVERS = ("edged", "coturn")
CASES = [(n, s) for n in (1000, int(big)) for s in (172, 1200)]


def run(srv, n, size, kind):
    path = os.path.join(d, f"{srv}-{n}-{size}-{kind}.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def noloss(srv, n, size):
    try:
        with open(os.path.join(d, f"{srv}-{n}-{size}-noloss.txt")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def relayed(j):
    return j["traffic"]["c2p_pps"] + j["traffic"]["p2c_pps"]


rows, ratios, per_cpu, short = [], [], {}, []
for n, size in CASES:
    for srv in SERVERS:
        sat, half = run(srv, n, size, "sat"), run(srv, n, size, "half")
        if not sat:
            rows.append(f"| {n} | {size} | {srv} | (no run) | | | | | |")
            continue
        cpu = sat["cpu"].get("server_traffic_s", 0)
        pcs = sat["cpu"].get("relayed_per_server_cpu_s", 0)
        per_cpu[(srv, n, size)] = pcs
        nl = noloss(srv, n, size)
        lat = half["traffic"]["latency"] if half else None
        latcol = (f"{lat['p50_us']:.0f} / {lat['p90_us']:.0f} / {lat['p99_us']:.0f} / "
                  f"{lat['p999_us']:.0f}" if lat and lat["count"] else "-")
        if sat["allocate"]["ok"] < n:
            short.append(f"{srv} at {n} x {size} B: {sat['allocate']['ok']} allocations made "
                         f"(the phase's time ran out at {sat['allocate']['per_second']:,.0f} "
                         "Allocate/s), and the traffic runs used those")
        rows.append(f"| {n} | {size} | {srv} | {relayed(sat):,.0f} | {sat['traffic']['loss_pct']:.1f} "
                    f"| {cpu:.2f} | {pcs:,.0f} | {2 * nl:,} | {latcol} |")
    e, c = per_cpu.get(("edged", n, size)), per_cpu.get(("coturn", n, size))
    if e and c:
        ratios.append(f"| {n} | {size} | {e / c:.1f} |")

allocs = []
for n, size in CASES:
    if size != 172:
        continue
    for srv in SERVERS:
        sat = run(srv, n, size, "sat")
        if sat:
            a = sat["allocate"]
            allocs.append(f"| {srv} | {n} | {a['ok']} | {a['per_second']:,.0f} | "
                          f"{a['latency']['p50_us'] / 1000:.1f} | {a['latency']['p99_us'] / 1000:.1f} |")

chart = os.path.join(d, "relayed_per_cpu_second.png")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{n} allocs\n{s} B" for n, s in CASES]
    x = range(len(CASES))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, srv in enumerate(SERVERS):
        ax.bar([k + (i - 0.5) * 0.38 for k in x], [per_cpu.get((srv, n, s), 0) for n, s in CASES],
               0.38, label=srv)
    ax.set_xticks(list(x), labels)
    ax.set_yscale("log")
    ax.set_ylabel("relayed packets per server CPU-second")
    ax.set_title("TURN relay at saturation, one core each (edgeload)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(chart, dpi=100)
except ImportError:
    chart = None

today = datetime.date.today().isoformat()
with open(md, "w") as f:
    f.write(f"""# TURN relay at saturation: edged beside coturn (edgeload)

- Machine: {machine}
- Date: {today}
- Command: `sudo bench/turn_saturation.sh {dur} {big}` (about 40 minutes); each run's JSON and
  the latency plots are in `bench/results/turn_saturation/`

Both servers are driven by `edgeload` (ours, `bench/edgeload/`), one after the other, with the
same clients (4096 source addresses, one allocation each, a channel to one of 64 echo peers)
and the same payloads. Each server's relay has CPU 1 to itself; edgeload runs on CPU 0.
- **edged**: the performance lab (`bench/perf_lab.sh`): its two interfaces are memif ports
  that edgeload's DPDK back-end drives through shared memory; its worker on CPU 1, its control
  plane on CPU 0 beside edgeload. TURN requests reach the TURN server on the punt ring.
- **coturn** (Debian's turnserver, `--relay-threads=1`, every thread pinned to CPU 1) in a
  namespace of its own, driven by edgeload's kernel-socket back-end (sendmmsg/recvmmsg) over
  two veth pairs.

Every traffic run starts with 1 s of the same traffic that is not counted (`--warmup 1`: the
first second carries the allocations' first packets, and its latencies the start-up).
"Relayed" counts both directions, each at the far end: client->peer packets received by the
peers plus peer->client packets received by the clients. CPU is every thread of the server
over the traffic phase; "per CPU-second" is relayed / that. "No loss" is the highest total
relayed rate (2 x the clients' send rate) at which a {dur} s run lost at most 1 packet in
10 000, found by six bisection steps: not 0, because this virtual machine stalls a CPU for up to
~10 ms now and then (seen as p99.9 latencies of 5-10 ms at any rate, and losses on both sides of
the memif rings of 4 096 descriptors once a stall outlasts them), while coturn's sockets hold
8 MB each. Latency is the clients' round trip (client -> relay -> peer -> relay ->
client: two relay hops, edgeload's own stack on both ends) at half of each server's own
no-loss rate: p50 / p90 / p99 / p99.9 in microseconds.

## Saturation, no-loss rate and latency

| allocations | payload B | server | relayed pps at saturation | loss % | server CPU s | relayed per CPU-second | no-loss relayed pps | RTT at half of it, µs |
|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + ("\n\nShort of the allocation count: " + "; ".join(short) + "." if short else "") + f"""

Under overload a server relays less than it can at its no-loss rate (coturn at 50 000: the
kernel's socket queues overflow and its one thread spends itself on packets it then drops), so
the no-loss column can exceed the saturation column.

## edged / coturn, relayed packets per server CPU-second

| allocations | payload B | ratio |
|---|---|---|
""" + "\n".join(ratios) + f"""

{"![relayed per CPU-second](turn_saturation/relayed_per_cpu_second.png)" if chart else ""}

## Allocate transactions (the 401 round included)

Each saturation run's allocation phase: edgeload keeps 256 transactions outstanding. edged's
TURN server answers at most 20 unauthenticated requests a second per source address (the 401
challenge is a reflection vector), hence the 4096 client addresses.

| server | allocations | made | Allocate/s | p50 ms | p99 ms |
|---|---|---|---|---|---|
""" + "\n".join(allocs) + f"""

## Idle cost

Over 10 s with nothing to do, before the runs, in CPU-seconds per second: coturn {idle_c}
(it sleeps in epoll); edged {idle_e} (`idle_sleep_us`, the longest sleep of the worker's
back-off: memif has no receive interrupt, so an idle worker wakes to look; its sleeps start
at 10 µs and double every 16 sleeps, so only a worker idle for tens of milliseconds sleeps that
long, and the first packet after such an idle waits at most that long: `edgectl status` counts
those wakes and their first bursts). Each wake costs this virtual machine about 20 µs of CPU,
most of it the hypervisor's interrupt enabling on the timer's return (perf: `pvm_irq_enable`).
The runs use perf.conf's 1 000 µs.
""")
print(f"wrote {md}")
