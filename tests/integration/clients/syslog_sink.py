#!/usr/bin/python3
"""A syslog receiver for the lab tests: RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587,
octet counting, or LF-terminated as a fallback) and TLS (RFC 5425), one JSON line per message
appended to --out:
  {"transport": "tcp", "pri": 134, "timestamp": "...", "host": "edge", "app": "edge",
   "procid": "1234", "msg": "mgmt: interface b up"}
Python's standard library only. Exits on SIGTERM or SIGINT.

  syslog_sink.py --bind 198.18.0.2 --udp 514 --tcp 514 --tls 6514 \
      --cert server.pem --key server.key --out /tmp/sink.jsonl

Port 0 takes a free one; the ports taken are printed on stderr, as
"syslog_sink: listening udp=N tcp=N tls=N", once every socket listens.
"""
import argparse
import json
import signal
import socket
import ssl
import sys
import threading

MAX_FRAME = 64 * 1024
_out_lock = threading.Lock()


def parse_5424(data):
    """The fields of one RFC 5424 message (bytes), or None if it is not one."""
    if not data.startswith(b"<"):
        return None
    end = data.find(b">")
    if end < 2 or end > 4 or not data[1:end].isdigit():
        return None
    pri = int(data[1:end])
    rest = data[end + 1:]
    # VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, then STRUCTURED-DATA [SP MSG]
    parts = rest.split(b" ", 6)
    if len(parts) < 7 or parts[0] != b"1":
        return None
    _version, ts, host, app, procid, msgid, tail = parts
    sd, msg = split_sd(tail)
    if sd is None:
        return None
    if msg.startswith(b"\xef\xbb\xbf"):
        msg = msg[3:]  # MSG-UTF8's BOM
    text = lambda b: b.decode("utf-8", errors="backslashreplace")
    return {"pri": pri, "timestamp": text(ts), "host": text(host), "app": text(app),
            "procid": text(procid), "msgid": text(msgid), "sd": text(sd), "msg": text(msg)}


def split_sd(tail):
    """STRUCTURED-DATA ("-" or [..][..], quotes and escapes inside) and the MSG after it."""
    if tail.startswith(b"-"):
        sd, i = b"-", 1
    else:
        i, n = 0, len(tail)
        while i < n and tail[i:i + 1] == b"[":
            quoted = False
            i += 1
            while i < n:
                c = tail[i:i + 1]
                if c == b"\\" and quoted:
                    i += 2
                    continue
                if c == b'"':
                    quoted = not quoted
                elif c == b"]" and not quoted:
                    break
                i += 1
            if i >= n:
                return None, b""
            i += 1
        if i == 0:
            return None, b""
        sd = tail[:i]
    if i == len(tail):
        return sd, b""
    if tail[i:i + 1] != b" ":
        return None, b""
    return sd, tail[i + 1:]


class Sink:
    def __init__(self, out_path):
        self.out = open(out_path, "a", encoding="utf-8")
        self.stop = threading.Event()

    def record(self, transport, data, peer):
        fields = parse_5424(data)
        if fields is None:
            fields = {"pri": None, "host": None, "app": None, "procid": None,
                      "msg": data.decode("utf-8", errors="backslashreplace"), "invalid": True}
        fields = dict(transport=transport, peer=peer, **fields)
        line = json.dumps(fields, ensure_ascii=False)
        with _out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def udp_loop(self, sock):
        while not self.stop.is_set():
            try:
                data, addr = sock.recvfrom(MAX_FRAME)
            except socket.timeout:
                continue
            except OSError:
                return
            self.record("udp", data.rstrip(b"\n"), addr[0])

    def accept_loop(self, sock, transport, tls_ctx):
        while not self.stop.is_set():
            try:
                conn, addr = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.stream_loop, args=(conn, transport, tls_ctx, addr[0]),
                             daemon=True).start()

    def stream_loop(self, conn, transport, tls_ctx, peer):
        try:
            conn.settimeout(10)
            if tls_ctx is not None:
                conn = tls_ctx.wrap_socket(conn, server_side=True)
            conn.settimeout(0.5)
            buf = b""
            while not self.stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                buf += chunk
                buf = self.frames(buf, transport, peer)
        except (OSError, ssl.SSLError, ValueError) as e:
            print(f"syslog_sink: {transport} {peer}: {e}", file=sys.stderr, flush=True)
        finally:
            conn.close()

    def frames(self, buf, transport, peer):
        """Takes every whole frame off @buf; returns what is left."""
        while buf:
            if buf[:1].isdigit():  # octet counting: "LEN SP MSG"
                sp = buf.find(b" ")
                if sp < 0:
                    if len(buf) > 8:
                        raise ValueError(f"frame length too long: {buf[:16]!r}")
                    return buf
                if not buf[:sp].isdigit() or int(buf[:sp]) > MAX_FRAME:
                    raise ValueError(f"bad frame length {buf[:sp][:16]!r}")
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    return buf
                self.record(transport, buf[sp + 1:sp + 1 + n], peer)
                buf = buf[sp + 1 + n:]
            else:  # non-transparent framing: one message a line
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) > MAX_FRAME:
                        raise ValueError("line too long")
                    return buf
                self.record(transport, buf[:nl].rstrip(b"\r"), peer)
                buf = buf[nl + 1:]
        return buf


def listen(bind, port, kind):
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    s.settimeout(0.5)
    return s


def main():
    ap = argparse.ArgumentParser(description="RFC 5424 receiver writing JSON lines")
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--udp", type=int, help="UDP port")
    ap.add_argument("--tcp", type=int, help="TCP port (octet counting)")
    ap.add_argument("--tls", type=int, help="TLS port (octet counting); needs --cert, --key")
    ap.add_argument("--cert", help="server certificate chain, PEM")
    ap.add_argument("--key", help="server key, PEM")
    ap.add_argument("--out", required=True, help="JSON lines are appended here")
    args = ap.parse_args()
    if args.udp is None and args.tcp is None and args.tls is None:
        ap.error("give at least one of --udp, --tcp, --tls")
    if args.tls is not None and not (args.cert and args.key):
        ap.error("--tls needs --cert and --key")

    sink = Sink(args.out)
    signal.signal(signal.SIGTERM, lambda *_: sink.stop.set())
    signal.signal(signal.SIGINT, lambda *_: sink.stop.set())
    threads, ports, socks = [], [], []
    if args.udp is not None:
        s = listen(args.bind, args.udp, socket.SOCK_DGRAM)
        socks.append(s)
        threads.append(threading.Thread(target=sink.udp_loop, args=(s,), daemon=True))
        ports.append(f"udp={s.getsockname()[1]}")
    if args.tcp is not None:
        s = listen(args.bind, args.tcp, socket.SOCK_STREAM)
        socks.append(s)
        threads.append(threading.Thread(target=sink.accept_loop, args=(s, "tcp", None),
                                        daemon=True))
        ports.append(f"tcp={s.getsockname()[1]}")
    if args.tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)
        s = listen(args.bind, args.tls, socket.SOCK_STREAM)
        socks.append(s)
        threads.append(threading.Thread(target=sink.accept_loop, args=(s, "tls", ctx),
                                        daemon=True))
        ports.append(f"tls={s.getsockname()[1]}")
    for t in threads:
        t.start()
    print("syslog_sink: listening " + " ".join(ports), file=sys.stderr, flush=True)
    while not sink.stop.wait(0.5):
        pass
    for s in socks:
        s.close()
    for t in threads:
        t.join(timeout=2)
    sink.out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
