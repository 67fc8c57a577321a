#!/usr/bin/python3
"""A stand-in for systemd's notify socket (sd_notify(3)): binds a datagram socket at PATH and
writes each message it gets to OUT as one line, "<seconds since start> <message with newlines
as |>". Ends on SIGTERM or after --max seconds (bounded), removing the socket.

usage: notify_sink.py PATH OUT [--max SECONDS]
"""
import argparse
import os
import signal
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("out")
ap.add_argument("--max", type=float, default=300)
a = ap.parse_args()

stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
if os.path.exists(a.path):
    os.unlink(a.path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(a.path)
os.chmod(a.path, 0o666)
s.settimeout(0.2)
t0 = time.monotonic()
with open(a.out, "a", buffering=1) as out:
    while not stop and time.monotonic() - t0 < a.max:
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        out.write("%.3f %s\n" % (time.monotonic() - t0, msg.decode(errors="replace").replace("\n", "|")))
os.unlink(a.path)
