#!/usr/bin/env python3
"""A TURN client in the standard library only, for what coturn's clients do not send: many
EVEN-PORT (R=1) reservations, RESERVATION-TOKENs used from another address or by another
user, and floods of unauthenticated requests. Long-term credentials (RFC 8489 9.2):
MESSAGE-INTEGRITY is HMAC-SHA1 keyed with MD5(user:realm:password).

  turn_resv.py flood SERVER [--count N] [--seconds S]
      N 20-byte Allocate requests without credentials from one socket, spread over S seconds;
      prints "sent <bytes> <n> answered <bytes> <n> largest <bytes>".
  turn_resv.py resv SERVER --user U --password P --count N --other-ip IP --secret S
      N allocations with EVEN-PORT R=1, then the first token used by another user (TURN REST
      API credentials from S) from IP, by its own user from IP, again, and the last token;
      prints one "key value..." line per result, then deletes what it allocated.
"""
import argparse
import base64
import hashlib
import hmac
import os
import select
import socket
import struct
import sys
import time

COOKIE = 0x2112A442
ALLOCATE, REFRESH = 0x003, 0x004
A_USERNAME, A_MI, A_ERROR, A_LIFETIME, A_REALM, A_NONCE = 0x0006, 0x0008, 0x0009, 0x000D, 0x0014, 0x0015
A_XOR_RELAYED, A_REQ_TRANSPORT, A_EVEN_PORT, A_TOKEN = 0x0016, 0x0019, 0x0018, 0x0022


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def message(method, attrs, tid=None, key=None):
    """A request: attributes, then MESSAGE-INTEGRITY over everything before it if @key."""
    tid = tid or os.urandom(12)
    body = b"".join(attr(t, v) for t, v in attrs)
    if key is None:
        return struct.pack("!HHI", method, len(body), COOKIE) + tid + body
    hdr = struct.pack("!HHI", method, len(body) + 24, COOKIE) + tid
    mac = hmac.new(key, hdr + body, hashlib.sha1).digest()
    return hdr + body + attr(A_MI, mac)


def parse(buf):
    """(class and method type, {attr type: value}) or None."""
    if len(buf) < 20:
        return None
    typ, ln, cookie = struct.unpack("!HHI", buf[:8])
    if cookie != COOKIE or 20 + ln > len(buf):
        return None
    attrs, off = {}, 20
    while off + 4 <= 20 + ln:
        t, l = struct.unpack("!HH", buf[off:off + 4])
        attrs.setdefault(t, buf[off + 4:off + 4 + l])
        off += 4 + l + (-l % 4)
    return typ, attrs


def error_code(attrs):
    e = attrs.get(A_ERROR)
    return e[2] * 100 + e[3] if e and len(e) >= 4 else 0


class Client:
    """One 5-tuple: a UDP socket bound to @ip (any port), talking to SERVER:3478."""

    def __init__(self, server, ip, user, password):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, 0))
        self.server = (server, 3478)
        self.user, self.password = user, password
        self.realm = self.nonce = None

    def transact(self, msg, tries=4):
        tid = msg[8:20]
        for i in range(tries):
            self.s.sendto(msg, self.server)
            end = time.monotonic() + 0.5 * (i + 1)
            while time.monotonic() < end:
                r, _, _ = select.select([self.s], [], [], max(0, end - time.monotonic()))
                if not r:
                    break
                buf = self.s.recv(2048)
                p = parse(buf)
                if p and buf[8:20] == tid:
                    return p
        return None

    def key(self):
        return hashlib.md5(f"{self.user}:{self.realm}:{self.password}".encode()).digest()

    def request(self, method, attrs):
        """The answer's error code (0 for success, -1 for none) and attributes; a 401 to an
        unsigned request or a 438 is answered with the new REALM and NONCE."""
        code, p = -1, (0, {})
        for _ in range(3):
            auth = []
            if self.nonce:
                auth = [(A_USERNAME, self.user.encode()), (A_REALM, self.realm.encode()),
                        (A_NONCE, self.nonce)]
            p = self.transact(message(method, attrs + auth, key=self.key() if self.nonce else None))
            if p is None:
                return -1, {}
            code = error_code(p[1])
            if code in (401, 438) and A_NONCE in p[1] and (code == 438 or not auth):
                r = p[1].get(A_REALM)
                self.realm = r.decode() if r else self.realm
                self.nonce = p[1][A_NONCE]
                continue
            return code, p[1]
        return code, p[1]

    def allocate(self, even=None, token=None):
        attrs = [(A_REQ_TRANSPORT, bytes([17, 0, 0, 0]))]
        if even is not None:
            attrs.append((A_EVEN_PORT, bytes([0x80 if even else 0])))
        if token:
            attrs.append((A_TOKEN, token))
        code, a = self.request(ALLOCATE, attrs)
        port = None
        if code == 0 and A_XOR_RELAYED in a:
            port = struct.unpack("!H", a[A_XOR_RELAYED][2:4])[0] ^ (COOKIE >> 16)
        return code, port, a.get(A_TOKEN)

    def delete(self):
        return self.request(REFRESH, [(A_LIFETIME, struct.pack("!I", 0))])[0]


def flood(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = answered = n_ans = largest = 0
    gap = args.seconds / args.count
    start = time.monotonic()

    def drain():
        nonlocal answered, n_ans, largest
        while True:
            try:
                b = s.recv(2048)
            except BlockingIOError:
                return
            answered += len(b)
            n_ans += 1
            largest = max(largest, len(b))

    for i in range(args.count):
        req = struct.pack("!HHI", ALLOCATE, 0, COOKIE) + os.urandom(12)
        s.sendto(req, (args.server, 3478))
        sent += len(req)
        drain()
        delay = start + (i + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        select.select([s], [], [], 0.1)
        drain()
    print(f"sent {sent} {args.count} answered {answered} {n_ans} largest {largest}")


def resv(args):
    me = args.ip
    clients, tokens, ports, codes = [], [], [], []
    first = None
    held = []   # every socket stays open: the kernel gives none of their ports out again
    for i in range(args.count):
        for _ in range(5):
            c = Client(args.server, me, args.user, args.password)
            held.append(c)
            if first:	# one challenge for the address: its nonce serves every socket
                c.realm, c.nonce = first.realm, first.nonce
            code, port, tok = c.allocate(even=True)
            first = first or (c if c.nonce else None)
            # 437: an allocation of an earlier run (another process) still holds this
            # 5-tuple on the server; another port is another client
            if code != 437:
                break
        codes.append(code)
        if code == 0:
            clients.append(c)
            tokens.append(tok)
            ports.append(port)
    ok = codes.count(0)
    print("allocated", ok, "refused508", codes.count(508), "other",
          ",".join(str(x) for x in codes if x not in (0, 508)) or "-")
    # the first refusal comes after the last success: nothing was written over
    print("order", "ok" if all(x == 0 for x in codes[:ok]) else "mixed")
    print("tokens", sum(1 for t in tokens if t and len(t) == 8), "distinct", len(set(tokens)))
    if not tokens:
        return
    exp = int(time.time()) + 600
    guest = f"{exp}:mallory"
    gpw = base64.b64encode(hmac.new(args.secret.encode(), guest.encode(), hashlib.sha1).digest()).decode()
    m = Client(args.server, args.other_ip, guest, gpw)
    code, port, _ = m.allocate(token=tokens[0])
    print("other-user", code)
    if code == 0:
        clients.append(m)
    o = Client(args.server, args.other_ip, args.user, args.password)
    code, port, _ = o.allocate(token=tokens[0])
    print("same-user-other-address", code, "port", port, "want", ports[0] + 1)
    if code == 0:
        clients.append(o)
    a = Client(args.server, me, args.user, args.password)
    code, port, _ = a.allocate(token=tokens[0])
    print("again", code)
    if code == 0:
        clients.append(a)
    last = Client(args.server, me, args.user, args.password)
    code, port, _ = last.allocate(token=tokens[-1])
    print("last", code, "port", port, "want", ports[-1] + 1)
    if code == 0:
        clients.append(last)
    print("deleted", sum(1 for c in clients if c.delete() == 0), "of", len(clients))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["flood", "resv"])
    ap.add_argument("server")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--user", default="edge")
    ap.add_argument("--password", default="edge-lab-password")
    ap.add_argument("--ip", default="198.18.20.2")
    ap.add_argument("--other-ip", default="198.18.20.3")
    ap.add_argument("--secret", default="")
    args = ap.parse_args()
    (flood if args.mode == "flood" else resv)(args)


if __name__ == "__main__":
    sys.exit(main())
