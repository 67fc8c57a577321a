#!/usr/bin/env python3
"""edgeload's plot: throughput and latency over time, and the latency distribution (CDF,
log x), from the JSON summary (edgeload --json). Usage: el_plot.py RESULT.json OUT.png.
Exit status 2 when matplotlib is missing (Debian: python3-matplotlib)."""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def cdf(histogram):
    """[[lo_ns, hi_ns, count]...] -> (x in us at each bucket's top, cumulative fraction)."""
    total = sum(b[2] for b in histogram) or 1
    xs, ys, seen = [], [], 0
    for lo, hi, n in histogram:
        seen += n
        xs.append(max(hi, 1) / 1000.0)
        ys.append(seen / total)
    return xs, ys


def draw(r, out, plt):
    series = r.get("series", [])
    t = [s["t"] for s in series]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 11))
    cfg = r.get("config", {})
    fig.suptitle("edgeload: %s allocations, %s, %s B, %s peers" % (
        cfg.get("allocations"), cfg.get("pattern"), cfg.get("size"), cfg.get("peer")))
    ax1.plot(t, [s["tx_pps"] for s in series], label="tx pps")
    ax1.plot(t, [s["rx_pps"] for s in series], label="rx pps")
    ax1.plot(t, [s["lost"] for s in series], label="lost so far")
    ax1.set_ylabel("datagrams per second")
    ax1.legend(loc="best")
    ax1.grid(True, alpha=0.3)
    for key, label in (("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"),
                       ("p999_us", "p99.9")):
        ax2.plot(t, [s[key] for s in series], label=label)
    ax2.set_yscale("log")
    ax2.set_xlabel("seconds")
    ax2.set_ylabel("latency (us), per second")
    ax2.legend(loc="best")
    ax2.grid(True, alpha=0.3)
    xs, ys = cdf(r.get("traffic", {}).get("histogram", []))
    if xs:
        ax3.step(xs, ys, where="post")
        ax3.set_xscale("log")
    ax3.set_xlabel("%s latency (us)" % ("round-trip" if cfg.get("peer") == "echo" else "one-way"))
    ax3.set_ylabel("fraction of packets")
    ax3.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    if len(sys.argv) != 3:
        print("usage: el_plot.py RESULT.json OUT.png", file=sys.stderr)
        return 1
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("el_plot.py: python3-matplotlib is missing; no plot", file=sys.stderr)
        return 2
    draw(load(sys.argv[1]), sys.argv[2], plt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
