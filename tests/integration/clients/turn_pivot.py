#!/usr/bin/env python3
"""A TURN client that tries to use the relay as a way into the network behind it (issue 12):
an Allocate with long-term credentials (an operator's, or a guest's from the TURN REST API
shared secret), then one request naming a peer, and what the server answered.

  turn_pivot.py --server 198.18.20.1 --secret S --name mallory connect 198.18.10.3:443
      RFC 6062: Allocate with REQUESTED-TRANSPORT TCP over TCP, then Connect
  turn_pivot.py ... permission 198.18.10.2:3480     UDP: Allocate, CreatePermission
  turn_pivot.py ... channel 198.18.10.3:443         UDP: Allocate, ChannelBind 0x4000
  turn_pivot.py --family 6 ... permission [::1]:3480 [fe80::1]:3480 ...
      an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY; --family 46: a dual allocation,
      ADDITIONAL-ADDRESS-FAMILY), then one request per peer, IPv6 peers in brackets; the
      server may be an IPv6 address too
  turn_pivot.py ... send [::1]:3480 ...              a Send indication to each peer (no answer)

Prints "allocate <code>" and "<request> <code>" (0 for success, else the ERROR-CODE; -1 for no
answer), with several peers "<request> <peer> <code>" each; "relayed <address>" for each
XOR-RELAYED-ADDRESS. Only the standard library: struct, hmac, hashlib, socket."""
import argparse
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND, CONNECT = 0x003, 0x004, 0x008, 0x009, 0x00A
A_USERNAME, A_MI, A_ERROR, A_CHANNEL, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000C, 0x000D
A_PEER, A_REALM, A_NONCE, A_TRANSPORT = 0x0012, 0x0014, 0x0015, 0x0019
A_DATA, A_RELAYED, A_FAMILY, A_ADDITIONAL = 0x0013, 0x0016, 0x0017, 0x8000
SEND_INDICATION = 0x0016


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xor_peer(ip, port, tid=None):
    """XOR-PEER-ADDRESS; an IPv6 address is XORed with the cookie and the transaction ID,
    which the caller then sends the message with (@tid: 12 bytes, made here if None)."""
    if ":" not in ip:
        a = struct.unpack("!I", socket.inet_aton(ip))[0]
        return attr(A_PEER, struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), a ^ MAGIC))
    key = struct.pack("!I", MAGIC) + tid
    a = bytes(x ^ y for x, y in zip(socket.inet_pton(socket.AF_INET6, ip), key))
    return attr(A_PEER, struct.pack("!BBH", 0, 2, port ^ (MAGIC >> 16)) + a)


def unxor(v, tid):
    """An XOR-*-ADDRESS value as text."""
    port = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
    key = struct.pack("!I", MAGIC) + tid
    if v[1] == 1:
        return "%s:%d" % (socket.inet_ntoa(bytes(x ^ y for x, y in zip(v[4:8], key))), port)
    return "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, bytes(x ^ y for x, y in zip(v[4:20], key))), port)


def split_peer(s):
    ip, port = s.rsplit(":", 1)
    return ip.strip("[]"), int(port)


class Turn:
    def __init__(self, args, tcp):
        self.tcp = tcp
        self.server = (args.server, args.port)
        fam = socket.AF_INET6 if ":" in args.server else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        self.sock.settimeout(3)
        self.sock.connect(self.server)
        if args.secret:		# TURN REST API: "<expiry>:<name>", base64(HMAC-SHA1(secret, user))
            self.user = "%d:%s" % (int(time.time()) + 3600, args.name)
            self.password = base64.b64encode(hmac.new(args.secret.encode(), self.user.encode(),
                                                      hashlib.sha1).digest()).decode()
        else:
            self.user, self.password = args.user, args.password
        self.realm = self.nonce = None

    def recv(self):
        if not self.tcp:
            return self.sock.recv(4096)
        hdr = b""
        while len(hdr) < 20:
            c = self.sock.recv(20 - len(hdr))
            if not c:
                raise socket.timeout()
            hdr += c
        body, n = b"", struct.unpack("!H", hdr[2:4])[0]
        while len(body) < n:
            c = self.sock.recv(n - len(body))
            if not c:
                raise socket.timeout()
            body += c
        return hdr + body

    def request(self, method, attrs, tid=None):
        """Sends it (authenticated once a REALM and NONCE are known); returns (code, attrs).
        Every XOR-RELAYED-ADDRESS of a success goes into self.relayed."""
        tid = tid or os.urandom(12)
        body = b"".join(attrs(tid) if callable(attrs) else attrs)
        if self.nonce:
            body += attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) + attr(A_NONCE, self.nonce)
            key = hashlib.md5(("%s:%s:%s" % (self.user, self.realm.decode(), self.password)).encode()).digest()
            head = struct.pack("!HHI", method, len(body) + 24, MAGIC) + tid
            body += attr(A_MI, hmac.new(key, head + body, hashlib.sha1).digest())
        self.sock.send(struct.pack("!HHI", method, len(body), MAGIC) + tid + body)
        while True:
            try:
                m = self.recv()
            except (socket.timeout, ConnectionError):
                return -1, {}
            if len(m) >= 20 and m[8:20] == tid:
                break
        t, got, i = struct.unpack("!H", m[:2])[0], {}, 20
        self.relayed = []
        while i + 4 <= len(m):
            at, al = struct.unpack("!HH", m[i:i + 4])
            got.setdefault(at, m[i + 4:i + 4 + al])
            if at == A_RELAYED:
                self.relayed.append(unxor(m[i + 4:i + 4 + al], tid))
            i += 4 + al + (-al % 4)
        if t & 0x0110 == 0x0110:
            e = got.get(A_ERROR, b"\0\0\0\0")
            return (e[2] & 7) * 100 + e[3], got
        return 0, got

    def authed(self, method, attrs):
        code, got = self.request(method, attrs)
        if code in (401, 438) and A_NONCE in got:	# the challenge, or a stale nonce
            self.realm = got.get(A_REALM, self.realm)
            self.nonce = got[A_NONCE]
            code, got = self.request(method, attrs)
        return code

    def send(self, ip, port, data):
        """A Send indication (no integrity, no answer)."""
        tid = os.urandom(12)
        body = xor_peer(ip, port, tid) + attr(A_DATA, data)
        self.sock.send(struct.pack("!HHI", SEND_INDICATION, len(body), MAGIC) + tid + body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default="198.18.20.1")
    p.add_argument("--port", type=int, default=3478)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--secret", help="the TURN REST API shared secret (a guest's credentials)")
    p.add_argument("--name", default="pivot")
    p.add_argument("--family", choices=["4", "6", "46"], default="4",
                   help="relayed address family: 6 asks IPv6, 46 a dual allocation")
    p.add_argument("what", choices=["connect", "permission", "channel", "send"])
    p.add_argument("peers", nargs="+", help="a.b.c.d:port or [v6]:port")
    a = p.parse_args()
    t = Turn(a, a.what == "connect")
    attrs = [attr(A_TRANSPORT, bytes([6 if a.what == "connect" else 17, 0, 0, 0]))]
    if a.family == "6":
        attrs.append(attr(A_FAMILY, bytes([2, 0, 0, 0])))
    elif a.family == "46":
        attrs.append(attr(A_ADDITIONAL, bytes([2, 0, 0, 0])))
    code = t.authed(ALLOCATE, attrs)
    print("allocate", code)
    for r in t.relayed if code == 0 else []:
        print("relayed", r)
    if code != 0:
        sys.exit(1)
    for n, peer in enumerate(a.peers):
        ip, port = split_peer(peer)
        if a.what == "send":
            t.send(ip, port, b"pivot %d" % n)
            continue
        if a.what == "connect":
            code = t.authed(CONNECT, lambda tid: [xor_peer(ip, port, tid)])
        elif a.what == "permission":
            code = t.authed(CREATE_PERMISSION, lambda tid: [xor_peer(ip, port, tid)])
        else:
            code = t.authed(CHANNEL_BIND, lambda tid: [attr(A_CHANNEL, struct.pack("!HH", 0x4000 + n, 0)),
                                                       xor_peer(ip, port, tid)])
        print(a.what, code) if len(a.peers) == 1 else print(a.what, peer, code)
    t.authed(REFRESH, [attr(A_LIFETIME, struct.pack("!I", 0))])	# leave nothing behind


if __name__ == "__main__":
    main()
