#!/usr/bin/env python3
# A guest of webbridge3 as a script: POST /api/join, then the signalling WebSocket (/api/ws,
# subprotocol wb3-signalling) with its JWT, then messages a browser would not send. Standard
# library only (TLS, the HTTP upgrade and RFC 6455 framing by hand); everything bounded in
# time. Prints result lines "<word> <value>..." that the tests read; one that could not go on
# prints "error <what>" and exits 1.
#
#   ws_guest.py --url https://198.18.20.1:445 --ca FILE [--meeting 9999 --name Mallory] <cmd>
#   floats [--numbers N] [--fragments F]  an offer with N numbers 0.1 (~4 bytes each in, 20
#                 re-encoded), sent as F fragments: "sent <bytes>", "reply <type> <code>"
#   big [--size S] [--fragments F]  an offer over 64 KiB in F fragments: "sent", "reply"
#   then both send a mute and wait for the roster it brings: "roster <n>" or "roster none"
import argparse, base64, json, os, socket, ssl, struct, sys, time


def fail(what):
    print("error", what)
    sys.exit(1)


def tls(host, port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    s = socket.create_connection((host, port), timeout=10)
    return ctx.wrap_socket(s, server_hostname=host)


def join(host, port, ca, meeting, name):
    body = json.dumps({"meetingId": meeting, "passcode": "", "name": name}).encode()
    s = tls(host, port, ca)
    s.sendall(b"POST /api/join HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (host.encode(), len(body)) + body)
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        data += b
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode() if b" " in head else "?"
    if status != "200":
        fail("join %s %s" % (status, rest[:200].decode(errors="replace")))
    return json.loads(rest)["jwt"]


class WS:
    def __init__(self, host, port, ca):
        self.s = tls(host, port, ca)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /api/ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wb3-signalling\r\n"
                        "Origin: https://%s:%d\r\n\r\n" % (host, port, key, host, port)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(4096)
            if not b:
                fail("websocket: closed during the upgrade")
            self.buf += b
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            fail("websocket: " + head.split(b"\r\n")[0].decode(errors="replace"))
        self.closed = False

    def frame(self, op, data, fin=True):
        hdr = bytes([(0x80 if fin else 0) | op])
        n = len(data)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + body)

    def send(self, text, fragments=1):
        data = text.encode() if isinstance(text, str) else text
        step = max(1, -(-len(data) // fragments))
        parts = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        for i, p in enumerate(parts):
            self.frame(0x1 if i == 0 else 0x0, p, fin=i == len(parts) - 1)
        return len(data)

    def need(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.05, deadline - time.time()))
            try:
                b = self.s.recv(65536)
            except (socket.timeout, ssl.SSLError):
                return False
            if not b:
                self.closed = True
                return False
            self.buf += b
        return True

    def recv(self, timeout):
        """The next text message as JSON, None on timeout or close."""
        deadline = time.time() + timeout
        msg = b""
        while time.time() < deadline:
            if not self.need(2, deadline):
                return None
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if not self.need(4, deadline):
                    return None
                n, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if not self.need(10, deadline):
                    return None
                n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            if not self.need(off + n, deadline):
                return None
            data, self.buf = self.buf[off:off + n], self.buf[off + n:]
            op = b0 & 0x0F
            if op == 0x8:
                self.closed = True
                return None
            if op == 0x9:
                self.frame(0xA, data)
                continue
            if op in (0x1, 0x0):
                msg += data
                if b0 & 0x80:
                    return json.loads(msg)
        return None

    def wait(self, types, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if m is None:
                return None
            if m.get("type") in types:
                return m
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="https://198.18.20.1:445")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--meeting", default="9999")
    ap.add_argument("--name", default="Mallory")
    ap.add_argument("cmd", choices=["floats", "big"])
    ap.add_argument("--numbers", type=int, default=16000)
    ap.add_argument("--size", type=int, default=70000)
    ap.add_argument("--fragments", type=int, default=1)
    a = ap.parse_args()
    hostport = a.url.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    port = int(port)

    jwt = join(host, port, a.ca, a.meeting, a.name)
    ws = WS(host, port, a.ca)
    ws.send(json.dumps({"type": "auth", "jwt": jwt}))
    m = ws.wait(("authenticated", "error"), 10)
    if not m or m["type"] != "authenticated":
        fail("auth: %s" % m)
    print("auth ok")
    if a.cmd == "floats":
        msg = '{"type":"offer","sdp":"v=0\\r\\n","x":[' + ",".join(["0.1"] * a.numbers) + "]}"
    else:
        msg = '{"type":"offer","sdp":"v=0\\r\\n' + "a" * a.size + '"}'
    print("sent", ws.send(msg, a.fragments))
    m = ws.wait(("error",), 10)
    print("reply", m["type"], m.get("error"), json.dumps(m.get("message"))) if m else \
        print("reply none", "closed" if ws.closed else "silent")
    # the same socket and the C2W link still work: a mute goes to the callbridge, whose
    # roster comes back
    ws.send(json.dumps({"type": "mute", "audio": True, "video": False}))
    m = ws.wait(("roster",), 10)
    print("roster", len(m.get("participants", [])) if m else "none")
    ws.send(json.dumps({"type": "leave"}))
    ws.wait(("left",), 3)


if __name__ == "__main__":
    main()
