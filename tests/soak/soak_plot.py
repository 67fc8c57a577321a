#!/usr/bin/python3
"""The soak's plot: what edged held over the run (resident memory, descriptors, packet
buffers, DPDK heap; allocations, stream connections, media legs), from soak_sample.py's CSV.
Usage: soak_plot.py samples.csv out.png [title]. Exit status 2 without matplotlib
(Debian: python3-matplotlib)."""
import csv
import sys


def main():
    if len(sys.argv) < 3:
        print("usage: soak_plot.py samples.csv out.png [title]", file=sys.stderr)
        return 1
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("soak_plot: no matplotlib (apt install python3-matplotlib)", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("soak_plot: no samples", file=sys.stderr)
        return 1

    def series(col):
        xs, ys = [], []
        for r in rows:
            if r.get(col, "") != "":
                xs.append(float(r["t"]) / 60)
                ys.append(float(r[col]))
        return xs, ys

    panels = [
        ("Memory (MB)", ["rss_mb", "malloc_mb"]),
        ("Open descriptors", ["fds"]),
        ("Packet buffers in use", ["mbufs_in_use"]),
        ("DPDK heap (MB)", ["heap_mb"]),
        ("TURN", ["allocations", "table_slots", "stream_conns"]),
        ("Meetings", ["media_legs", "participants", "db_rows"]),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(11, 9), sharex=True)
    for ax, (title, cols) in zip(axes.flat, panels):
        for c in cols:
            x, y = series(c)
            ax.plot(x, y, label=c, linewidth=1.2)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if len(cols) > 1:
            ax.legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("minutes")
    fig.suptitle(sys.argv[3] if len(sys.argv) > 3 else "edged under soak", fontsize=11)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
