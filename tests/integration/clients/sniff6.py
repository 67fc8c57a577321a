#!/usr/bin/env python3
"""A sniffer for the lab's tests: what left the relay onto a link. Listens on @iface (an
AF_PACKET socket: run it as root inside the namespace) for --seconds or until SIGTERM, then
prints one line per IPv6 or IPv4 UDP flow whose source address is --src:

  udp <destination> <port> <frames>
  total <frames>

With --any-protocol every IPv6 frame from --src counts, by protocol ("ip6 <next header>
<destination> <frames>"): ICMPv6 (neighbour discovery) too.

and "ready" on stderr once the socket listens. Only the standard library."""
import argparse
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True, help="an IPv4 or IPv6 source address")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--any-protocol", action="store_true")
    a = p.parse_args()
    v6 = ":" in a.src
    src = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, a.src)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", file=sys.stderr, flush=True)
    flows, end = {}, time.monotonic() + a.seconds
    while not stop and time.monotonic() < end:
        try:
            f, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 14:
            continue
        et = struct.unpack("!H", f[12:14])[0]
        if v6 and a.any_protocol and et == 0x86DD and len(f) >= 54 and f[22:38] == src:
            dst, port = socket.inet_ntop(socket.AF_INET6, f[38:54]), f[20]
        elif v6 and et == 0x86DD and len(f) >= 62 and f[20] == 17 and f[22:38] == src:
            dst, port = socket.inet_ntop(socket.AF_INET6, f[38:54]), struct.unpack("!H", f[56:58])[0]
        elif not v6 and et == 0x0800 and len(f) >= 42 and f[23] == 17 and f[26:30] == src:
            ihl = (f[14] & 15) * 4
            dst, port = socket.inet_ntoa(f[30:34]), struct.unpack("!H", f[14 + ihl + 2:14 + ihl + 4])[0]
        else:
            continue
        flows[(dst, port)] = flows.get((dst, port), 0) + 1
    for (dst, port), n in sorted(flows.items()):
        print("ip6 %d %s %d" % (port, dst, n) if a.any_protocol else "udp %s %d %d" % (dst, port, n))
    print("total", sum(flows.values()), flush=True)


if __name__ == "__main__":
    main()
