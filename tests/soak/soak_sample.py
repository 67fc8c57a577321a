#!/usr/bin/env python3
"""The soak's sampler: every --interval seconds until --until (a Unix time), one CSV row of
what edged holds, read from its metrics registry (`edgectl metrics`, Prometheus text) and
from the callbridge's SQLite database (read-only; WAL lets us read beside the writer).

    soak_sample.py --edgectl build/edgectl --sock /run/edge-lab/edged.sock \
        --db /run/edge-lab/callbridge.db --csv samples.csv --interval 2 --until 1767000000
    soak_sample.py ... --once        one row on stdout (no header), for the final figures

The columns are COLUMNS below; a figure that could not be read is left empty. Bounded: one
edgectl call at most 10 s, the loop ends at --until whatever happens."""
import argparse
import csv
import re
import sqlite3
import subprocess
import sys
import time

COLUMNS = [
    "t", "rss_mb", "malloc_mb", "fds", "mbufs_in_use", "heap_mb", "allocations", "table_slots",
    "table_objects", "stream_conns", "media_legs", "participants", "calls", "db_rows",
    "relayed_pkts", "sfu_rx_pkts",
]

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def scrape(edgectl, sock):
    """{name: [(labels dict, value)]} from `edgectl metrics`, or None."""
    try:
        out = subprocess.run([edgectl, "-s", sock, "metrics"], capture_output=True, text=True,
                             timeout=10).stdout
    except (subprocess.TimeoutExpired, OSError):
        return None
    fam = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            fam.setdefault(m.group(1), []).append((labels, float(m.group(3))))
        except ValueError:
            pass
    return fam or None


def total(fam, name, **want):
    s = [v for lab, v in fam.get(name, []) if all(lab.get(k) == x for k, x in want.items())]
    return int(sum(s)) if s else ""


def db_rows(path):
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            return sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
        finally:
            db.close()
    except sqlite3.Error:
        return ""


def row(a, t0):
    fam = scrape(a.edgectl, a.sock) or {}
    mb = lambda v: round(v / 1048576, 2) if v != "" else ""
    return {
        "t": round(time.time() - t0, 1),
        "rss_mb": mb(total(fam, "process_resident_memory_bytes")),
        "malloc_mb": mb(total(fam, "edge_malloc_allocated_bytes")),
        "fds": total(fam, "process_open_fds"),
        "mbufs_in_use": total(fam, "edge_packet_buffers_in_use"),
        "heap_mb": mb(total(fam, "edge_dpdk_heap_allocated_bytes")),
        "allocations": total(fam, "edge_turn_allocations"),
        "table_slots": total(fam, "edge_turn_table_entries", kind="slots"),
        "table_objects": total(fam, "edge_turn_table_entries", kind="objects"),
        "stream_conns": total(fam, "edge_turn_stream_connections"),
        "media_legs": total(fam, "edge_media_legs"),
        "participants": total(fam, "edge_callbridge_participants"),
        "calls": total(fam, "edge_callbridge_calls"),
        "db_rows": db_rows(a.db) if a.db else "",
        "relayed_pkts": total(fam, "edge_turn_relayed_packets_total"),
        "sfu_rx_pkts": total(fam, "edge_interface_sfu_rx_packets_total"),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--edgectl", required=True)
    p.add_argument("--sock", required=True)
    p.add_argument("--db", default="")
    p.add_argument("--csv")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--until", type=float, default=0)
    p.add_argument("--t0", type=float, default=0, help="the time t counts from")
    p.add_argument("--once", action="store_true")
    a = p.parse_args()
    t0 = a.t0 or time.time()
    if a.once:
        w = csv.DictWriter(sys.stdout, COLUMNS)
        w.writerow(row(a, t0))
        return 0
    if not a.csv or not a.until:
        p.error("--csv and --until, or --once")
    with open(a.csv, "a", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        if f.tell() == 0:
            w.writeheader()
        nxt = time.time()
        while time.time() < a.until:
            w.writerow(row(a, t0))
            f.flush()
            nxt += a.interval
            time.sleep(max(0.0, min(nxt - time.time(), a.until - time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
