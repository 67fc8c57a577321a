#!/usr/bin/env python3
# TURN over TCP and TLS (RFC 8656 stream framing, RFC 6062 TCP relays) as clients that
# misbehave, and the few well-behaved ones needed to watch what the server does about them.
# Standard library only; everything bounded in time. Each command prints result lines of the
# form "<word> <value>..." that tests/integration/test_turn_stream.sh reads (the test judges
# those, not the exit status); one that could not go on prints "error <what>" and exits 1.
#
#   stream_abuse.py [common options] <command> [command options]
#   common: --server 198.18.20.1 --port 3478 (TCP) --tls-port 447 --user edge
#           --password edge-lab-password --ca FILE (trust for --tls; without it, none checked)
#   allocate [--tls] [--tcp-relay]   one allocation: "relay <ip> <port>", "ms <time>"
#   garbage                          TLS port: bytes that are no ClientHello: "closed <s>"|"open"
#   stall [--wait S]                 TLS port: half a ClientHello, then nothing: "closed <s>"|"open"
#   idle [--wait S]                  TCP: one Binding, then nothing: "closed <s>"|"open"
#   slow-reader --peer IP --flag F   allocates, permits IP, stops reading until F exists, then
#                                    drains: "relay", "drained <frames> <intact> <bad>", "answered"
#   flood IP PORT [--seconds --size --pps]   UDP at a relay address from the peer side: "sent <n>"
#   conns N --flag F [--hold S]      N TCP connections, a Binding on each: "open <n>",
#                                    "answered <n>"; held until F exists; "still <n>" then
#   probe [--tls] [--flag F]         one new connection, one Binding: "probe answered|closed|silent";
#                                    with --flag, held open until F exists
#   truncated --then close|stall     a STUN header announcing more than is sent:
#                                    "truncated answered|silent closed|open"
#   coalesce [--tls] --peer IP:PORT  allocation + channel to an echoing UDP peer; two messages in
#                                    one write, one message in 1-byte writes: "<case> ok|FAIL ..."
#   tcp-relay [--tls] --peer IP:PORT [-n N --size S]   RFC 6062 Connect to a TCP peer that
#                                    echoes: "tcp-relay sent <b> received <b> lost <b>"
#   tcp-accept [--tls] --peer IP --flag F   RFC 6062 passive side: allocate, permit IP, print
#                                    "relay", then echo what a ConnectionAttempt brings
#   tcp-dial IP PORT [-n N --size S] the peer side of tcp-accept: "tcp-dial sent received lost"
#   tcp-echo IP PORT [--seconds S]   a TCP echo server (the peer for tcp-relay)
import argparse, hashlib, hmac, os, selectors, socket, ssl, struct, sys, time, zlib

MAGIC = 0x2112A442
BINDING, ALLOCATE, REFRESH, SEND, DATA_IND = 0x001, 0x003, 0x004, 0x006, 0x007
CREATE_PERMISSION, CHANNEL_BIND = 0x008, 0x009
CONNECT, CONNECTION_BIND, CONNECTION_ATTEMPT = 0x00A, 0x00B, 0x00C
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3
A_USERNAME, A_MI, A_ERROR, A_CHANNEL, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000C, 0x000D
A_PEER, A_DATA, A_REALM, A_NONCE, A_RELAYED = 0x0012, 0x0013, 0x0014, 0x0015, 0x0016
A_TRANSPORT, A_MAPPED, A_CONNECTION_ID, A_FINGERPRINT = 0x0019, 0x0020, 0x002A, 0x8028

def out(*words):
    print(*words, flush=True)

# ---- STUN messages (RFC 8489), long-term credentials and FINGERPRINT done here ----

def msg_type(method, cls):
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))

def split_type(t):
    return ((t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80),
            ((t >> 4) & 1) | ((t >> 7) & 2))

def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

def xor_addr(ip, port):
    a = struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), a)

def unxor_addr(v):
    _, fam, port, a = struct.unpack("!BBHI", v[:8])
    return socket.inet_ntoa(struct.pack("!I", a ^ MAGIC)), port ^ (MAGIC >> 16)

def fingerprint(data):
    return (zlib.crc32(data) ^ 0x5354554E) & 0xFFFFFFFF

def build(method, cls, tid, attrs, key=None, fp=True):
    t = msg_type(method, cls)
    body = b"".join(attrs)
    if key is not None:
        # MESSAGE-INTEGRITY: HMAC-SHA1 over the message up to it, the length field already
        # counting it (RFC 8489 14.5)
        head = struct.pack("!HHI", t, len(body) + 24, MAGIC) + tid
        body += attr(A_MI, hmac.new(key, head + body, hashlib.sha1).digest())
    if fp:
        head = struct.pack("!HHI", t, len(body) + 8, MAGIC) + tid
        body += attr(A_FINGERPRINT, struct.pack("!I", fingerprint(head + body)))
    return struct.pack("!HHI", t, len(body), MAGIC) + tid + body

class Msg:
    def __init__(self, raw):
        t, ln, magic = struct.unpack("!HHI", raw[:8])
        self.raw, self.tid = raw, raw[8:20]
        self.method, self.cls = split_type(t)
        self.attrs, self.offsets = [], []
        i = 20
        while i + 4 <= len(raw):
            at, al = struct.unpack("!HH", raw[i:i + 4])
            self.attrs.append((at, raw[i + 4:i + 4 + al]))
            self.offsets.append(i)
            i += 4 + al + (-al % 4)

    def get(self, t):
        for at, v in self.attrs:
            if at == t:
                return v
        return None

    def error(self):
        v = self.get(A_ERROR)
        return (v[2] & 7) * 100 + v[3] if v and len(v) >= 4 else None

    def integrity_ok(self, key):
        """None if unsigned; else whether MESSAGE-INTEGRITY checks out under @key."""
        for (at, v), off in zip(self.attrs, self.offsets):
            if at == A_MI:
                head = self.raw[:2] + struct.pack("!H", off + 24 - 20) + self.raw[4:20]
                return hmac.compare_digest(
                    hmac.new(key, head + self.raw[20:off], hashlib.sha1).digest(), v)
        return None

    def fingerprint_ok(self):
        for (at, v), off in zip(self.attrs, self.offsets):
            if at == A_FINGERPRINT:
                return struct.unpack("!I", v)[0] == fingerprint(self.raw[:off])
        return None

# ---- the stream: RFC 8656 framing over TCP or TLS ----

def connect(host, port, tls=False, cafile=None, rcvbuf=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        if cafile:
            ctx = ssl.create_default_context(cafile=cafile)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.set_alpn_protocols(["stun.turn"])
        s = ctx.wrap_socket(s, server_hostname=host)
    return s

class Stream:
    """Frames from a byte stream: STUN messages (20 + length) and ChannelData (4 + length,
    padded to 4 over a stream, RFC 8656 12.5)."""
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def send(self, data):
        self.sock.sendall(data)

    def frame(self):
        b = self.buf
        if len(b) < 4:
            return None
        top = b[0] >> 6
        if top == 0:
            need = 20 + struct.unpack("!H", b[2:4])[0]
        elif top == 1:
            ln = struct.unpack("!H", b[2:4])[0]
            need = 4 + ln + (-ln % 4)
        else:
            raise ValueError("not a STUN or ChannelData frame: %s" % b[:8].hex())
        if len(b) < need:
            return None
        f, self.buf = b[:need], b[need:]
        if top == 0:
            return Msg(f)
        ch, ln = struct.unpack("!HH", f[:4])
        return (ch, f[4:4 + ln])

    def recv(self, timeout):
        """The next frame, or None if none came in @timeout s; EOFError if closed."""
        end = time.monotonic() + timeout
        while True:
            f = self.frame()
            if f is not None:
                return f
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                return None
            if not d:
                raise EOFError("closed by the server")
            self.buf += d

class Client:
    """A TURN client on one stream connection: long-term credentials, 401/438 handled."""
    def __init__(self, sock, user, password):
        self.s = Stream(sock)
        self.user, self.password = user.encode(), password.encode()
        self.realm = self.nonce = self.key = None
        self.inbox = []		# frames that came while waiting for a response
        self.bad_integrity = 0

    def _auth(self):
        if self.nonce is None:
            return []
        return [attr(A_USERNAME, self.user), attr(A_REALM, self.realm), attr(A_NONCE, self.nonce)]

    def request(self, method, attrs, timeout=5, auth=True):
        for _ in range(3):
            tid = os.urandom(12)
            a = list(attrs) + (self._auth() if auth else [])
            self.s.send(build(method, REQUEST, tid, a, self.key if auth and self.key else None))
            end = time.monotonic() + timeout
            while True:
                f = self.s.recv(max(0.0, end - time.monotonic()))
                if f is None:
                    raise TimeoutError("no answer to method 0x%03x" % method)
                if isinstance(f, Msg) and f.tid == tid and f.cls in (SUCCESS, ERROR):
                    break
                self.inbox.append(f)
            if f.cls == ERROR and f.error() in (401, 438) and auth and f.get(A_NONCE):
                if f.get(A_REALM):
                    self.realm = f.get(A_REALM)
                self.nonce = f.get(A_NONCE)
                self.key = hashlib.md5(self.user + b":" + self.realm + b":" + self.password).digest()
                continue
            # RFC 8489 9.2.4: a response to an authenticated request is signed with its key
            if self.key and auth and f.cls == SUCCESS and not f.integrity_ok(self.key):
                self.bad_integrity += 1
            return f
        return f

    def allocate(self, transport=17):
        r = self.request(ALLOCATE, [attr(A_TRANSPORT, bytes([transport, 0, 0, 0]))])
        if r.cls != SUCCESS:
            raise RuntimeError("Allocate: error %s" % r.error())
        return unxor_addr(r.get(A_RELAYED))

    def permit(self, ip):
        r = self.request(CREATE_PERMISSION, [attr(A_PEER, xor_addr(ip, 0))])
        if r.cls != SUCCESS:
            raise RuntimeError("CreatePermission: error %s" % r.error())

    def channel(self, ip, port, ch=0x4000):
        r = self.request(CHANNEL_BIND, [attr(A_CHANNEL, struct.pack("!HH", ch, 0)),
                                        attr(A_PEER, xor_addr(ip, port))])
        if r.cls != SUCCESS:
            raise RuntimeError("ChannelBind: error %s" % r.error())
        return ch

def binding(tid=None):
    return build(BINDING, REQUEST, tid or os.urandom(12), [])

def channel_data(ch, payload):
    return struct.pack("!HH", ch, len(payload)) + payload + b"\0" * (-len(payload) % 4)

def wait_closed(sock, limit):
    """Seconds until the server closes @sock (EOF or reset), or None if it is open at @limit."""
    t0 = time.monotonic()
    end = t0 + limit
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            if not sock.recv(4096):
                return time.monotonic() - t0
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            return time.monotonic() - t0

def wait_flag(path, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end and not os.path.exists(path):
        time.sleep(0.1)

def hello_bytes(host):
    """A real TLS ClientHello, as the ssl module writes it."""
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    obj = ctx.wrap_bio(inc, outg, server_hostname=host)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()

# ---- commands ----

def cmd_allocate(o):
    t0 = time.monotonic()
    c = Client(connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca), o.user, o.password)
    ip, port = c.allocate(6 if o.tcp_relay else 17)
    out("relay", ip, port)
    out("ms", int((time.monotonic() - t0) * 1000))
    out("integrity", "bad" if c.bad_integrity else "ok")

def cmd_garbage(o):
    s = socket.create_connection((o.server, o.tls_port), timeout=5)
    # no TLS record starts 0xff, nor a STUN message (00) or ChannelData (01)
    s.sendall(b"\xff" * 8 + bytes(range(256)) * 2)
    t = wait_closed(s, o.wait)
    out("closed", "%.2f" % t) if t is not None else out("open")

def cmd_stall(o):
    s = socket.create_connection((o.server, o.tls_port), timeout=5)
    h = hello_bytes(o.server)
    s.sendall(h[:len(h) // 2])
    t = wait_closed(s, o.wait)
    out("hello", len(h))
    out("closed", "%.2f" % t) if t is not None else out("open")

def cmd_idle(o):
    s = connect(o.server, o.port)
    st = Stream(s)
    st.send(binding())
    f = st.recv(3)
    out("binding", "answered" if isinstance(f, Msg) and f.cls == SUCCESS else "silent")
    t = wait_closed(s, o.wait)
    out("closed", "%.2f" % t) if t is not None else out("open")

def cmd_slow_reader(o):
    # a small receive window, so the server's side fills quickly
    c = Client(connect(o.server, o.port, rcvbuf=4096), o.user, o.password)
    ip, port = c.allocate()
    c.permit(o.peer)
    out("relay", ip, port)
    wait_flag(o.flag, o.hold)		# not reading: the peer floods meanwhile
    frames = intact = bad = 0
    last = -1
    try:
        while True:
            f = c.s.recv(2)
            if f is None:
                break
            frames += 1
            d = f.get(A_DATA) if isinstance(f, Msg) and f.method == DATA_IND else None
            if d is None and isinstance(f, tuple):
                d = f[1]
            # the flood's payload: a sequence number, then its pattern
            if d and len(d) >= 8 and d[4:] == pattern(len(d) - 4):
                seq = struct.unpack("!I", d[:4])[0]
                intact += 1
                if seq <= last:
                    bad += 1
                last = seq
            else:
                bad += 1
    except (ValueError, EOFError) as e:
        out("stream", "broken", str(e)[:80])
        bad += 1
    out("drained", frames, intact, bad)
    try:
        r = c.request(REFRESH, [attr(A_LIFETIME, struct.pack("!I", 600))], timeout=5)
        out("refresh", "answered" if r.cls == SUCCESS else "error %s" % r.error())
    except (TimeoutError, EOFError, OSError) as e:
        out("refresh", "none", str(e)[:60])

def pattern(n):
    return (b"edge-flood-" * (n // 11 + 1))[:n]

def cmd_flood(o):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((o.ip, o.port))
    body = pattern(o.size - 4)
    sent, t0 = 0, time.monotonic()
    end = t0 + o.seconds
    while time.monotonic() < end:
        for _ in range(50):
            try:
                s.send(struct.pack("!I", sent) + body)
                sent += 1
            except OSError:
                pass
        # pace to --pps
        ahead = sent / o.pps - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    out("sent", sent)

def cmd_conns(o):
    sel = selectors.DefaultSelector()
    socks, answered, failed = [], 0, 0
    end = time.monotonic() + o.hold
    for i in range(o.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((o.server, o.port))
        except BlockingIOError:
            pass
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, [b"", "connecting"])
    deadline = time.monotonic() + 30
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=1):
            s, st = key.fileobj, key.data
            if st[1] == "connecting":
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    st[1] = "failed"; failed += 1; pending -= 1
                    sel.unregister(s)
                    continue
                try:
                    s.send(binding())
                except OSError:
                    st[1] = "failed"; failed += 1; pending -= 1
                    sel.unregister(s)
                    continue
                st[1] = "asked"
                sel.modify(s, selectors.EVENT_READ, st)
            else:
                try:
                    d = s.recv(512)
                except OSError:
                    d = b""
                if not d:
                    st[1] = "closed"; failed += 1; pending -= 1
                    sel.unregister(s)
                    continue
                st[0] += d
                if len(st[0]) >= 20 and len(st[0]) >= 20 + struct.unpack("!H", st[0][2:4])[0]:
                    st[1] = "answered"; answered += 1; pending -= 1
                    sel.unregister(s)
    out("open", len(socks) - failed)
    out("answered", answered)
    wait_flag(o.flag, max(0.0, end - time.monotonic()))
    # which of them the server still holds: a closed one reads EOF at once
    still = 0
    for s in socks:
        try:
            s.setblocking(False)
            d = s.recv(1)
            if d:
                still += 1
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    out("still", still)
    for s in socks:
        s.close()

def cmd_probe(o):
    try:
        s = connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca)
        st = Stream(s)
        st.send(binding())
        f = st.recv(3)
        out("probe", "answered" if isinstance(f, Msg) and f.cls == SUCCESS else "silent")
        if o.flag:		# held open, for the server's connection count
            wait_flag(o.flag, o.hold)
    except (EOFError, ConnectionError, ssl.SSLError, OSError) as e:
        out("probe", "closed", type(e).__name__)

def cmd_truncated(o):
    s = connect(o.server, o.port)
    # a Binding request announcing 200 bytes of attributes, of which 40 come
    head = struct.pack("!HHI", msg_type(BINDING, REQUEST), 200, MAGIC) + os.urandom(12)
    s.sendall(head + attr(0x8022, b"x" * 36))
    if o.then == "close":
        s.shutdown(socket.SHUT_WR)
    got = b""
    s.settimeout(3)
    closed = False
    try:
        while True:
            d = s.recv(4096)
            if not d:
                closed = True
                break
            got += d
    except socket.timeout:
        pass
    except OSError:
        closed = True
    out("truncated", "answered" if got else "silent", "closed" if closed else "open")

def cmd_coalesce(o):
    pip, pport = o.peer.rsplit(":", 1)
    pport = int(pport)
    c = Client(connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca), o.user, o.password)
    c.allocate()
    ch = c.channel(pip, pport)
    st = c.s

    def collect(want_tids, want_payloads, timeout=3):
        end = time.monotonic() + timeout
        tids, pays = set(want_tids), set(want_payloads)
        while (tids or pays) and time.monotonic() < end:
            f = st.recv(max(0.0, end - time.monotonic()))
            if f is None:
                break
            if isinstance(f, Msg) and f.tid in tids and f.cls == SUCCESS:
                tids.discard(f.tid)
            elif isinstance(f, tuple) and f[0] == ch and f[1] in pays:
                pays.discard(f[1])
        return not tids and not pays, len(tids), len(pays)

    def report(name, r):
        out(name, "ok" if r[0] else "FAIL", "missing %d answers %d echoes" % r[1:])

    # uclient's peer echoes what it gets: wait until the channel carries anything at all
    p0 = b"warm-up " + os.urandom(8).hex().encode()
    for _ in range(5):
        st.send(channel_data(ch, p0))
        if collect([], [p0], 1)[0]:
            break
    # 1. two STUN requests in one write
    t1, t2 = os.urandom(12), os.urandom(12)
    st.send(binding(t1) + binding(t2))
    report("coalesced-stun", collect([t1, t2], []))
    # 2. ChannelData (odd length: padded) and a STUN request in one write
    t3, p1 = os.urandom(12), b"coalesced " + os.urandom(6).hex().encode() + b"!"
    st.send(channel_data(ch, p1) + binding(t3))
    report("coalesced-mixed", collect([t3], [p1]))
    # 3. one STUN request, one byte per write (per TLS record over TLS)
    t4 = os.urandom(12)
    for b in binding(t4):
        st.send(bytes([b]))
        time.sleep(0.003)
    report("split-stun", collect([t4], []))
    # 4. one ChannelData message, one byte per write
    p2 = b"split " + os.urandom(8).hex().encode() + b"..."
    for b in channel_data(ch, p2):
        st.send(bytes([b]))
        time.sleep(0.003)
    report("split-channel", collect([], [p2]))
    out("integrity", "bad" if c.bad_integrity else "ok")

def relay_data_conn(o, c, cid):
    """RFC 6062 4.4: a new connection to the server, ConnectionBind on it, then raw data."""
    d = Client(connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca), o.user, o.password)
    d.realm, d.nonce, d.key = c.realm, c.nonce, c.key
    r = d.request(CONNECTION_BIND, [attr(A_CONNECTION_ID, cid)])
    if r.cls != SUCCESS:
        raise RuntimeError("ConnectionBind: error %s" % r.error())
    return d.s.sock, d.s.buf		# bytes after the response are the peer's already

def pump(sock, buf, n, size, label):
    """Send n blocks of size bytes, read the echo; report bytes lost."""
    sock.settimeout(5)
    sent = got = 0
    blocks = [os.urandom(size) for _ in range(n)]
    want = b"".join(blocks)
    rx = bytearray(buf)
    for b in blocks:
        sock.sendall(b)
        sent += len(b)
        try:
            while len(rx) < sent - size * 4:	# keep at most a few blocks in flight
                d = sock.recv(65536)
                if not d:
                    break
                rx += d
        except socket.timeout:
            break
    end = time.monotonic() + 5
    try:
        while len(rx) < len(want) and time.monotonic() < end:
            d = sock.recv(65536)
            if not d:
                break
            rx += d
    except (socket.timeout, OSError):
        pass
    got = len(rx)
    same = bytes(rx[:len(want)]) == want[:len(rx)]
    out(label, "sent", sent, "received", got, "lost", max(0, sent - got),
        "intact" if same else "CORRUPT")

def cmd_tcp_relay(o):
    pip, pport = o.peer.rsplit(":", 1)
    c = Client(connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca), o.user, o.password)
    ip, port = c.allocate(6)
    out("relay", ip, port)
    c.permit(pip)
    r = c.request(CONNECT, [attr(A_PEER, xor_addr(pip, int(pport)))], timeout=10)
    if r.cls != SUCCESS:
        out("tcp-relay", "connect-error", r.error())
        return
    sock, buf = relay_data_conn(o, c, r.get(A_CONNECTION_ID))
    pump(sock, buf, o.n, o.size, "tcp-relay")

def cmd_tcp_accept(o):
    c = Client(connect(o.server, o.tls_port if o.tls else o.port, o.tls, o.ca), o.user, o.password)
    ip, port = c.allocate(6)
    c.permit(o.peer)
    out("relay", ip, port)
    end = time.monotonic() + o.hold
    cid = None
    while cid is None and time.monotonic() < end:
        for f in c.inbox:
            if isinstance(f, Msg) and f.method == CONNECTION_ATTEMPT:
                cid = f.get(A_CONNECTION_ID)
        c.inbox.clear()
        if cid is None:
            f = c.s.recv(0.5)
            if f is not None:
                c.inbox.append(f)
    if cid is None:
        out("tcp-accept", "no-connection-attempt")
        return
    out("tcp-accept", "attempt")
    sock, buf = relay_data_conn(o, c, cid)
    # echo until the peer is done or the time is up
    sock.settimeout(1)
    if buf:
        sock.sendall(buf)
    echoed = len(buf)
    while time.monotonic() < end and not os.path.exists(o.flag):
        try:
            d = sock.recv(65536)
            if not d:
                break
            sock.sendall(d)
        except socket.timeout:
            continue
        except OSError:		# the peer went away: the server resets the data connection
            break
        echoed += len(d)
    out("tcp-accept", "echoed", echoed)

def cmd_tcp_dial(o):
    s = socket.create_connection((o.ip, o.port), timeout=5)
    pump(s, b"", o.n, o.size, "tcp-dial")

def cmd_tcp_echo(o):
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((o.ip, o.port))
    ls.listen(64)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    out("listening", o.ip, o.port)
    end = time.monotonic() + o.seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            if s is ls:
                cs, _ = ls.accept()
                cs.setblocking(True)
                cs.settimeout(2)
                sel.register(cs, selectors.EVENT_READ)
                continue
            try:
                d = s.recv(65536)
                if d:
                    s.sendall(d)
                    continue
            except OSError:
                pass
            sel.unregister(s)
            s.close()

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--server", default="198.18.20.1")
    p.add_argument("--port", type=int, default=3478)
    p.add_argument("--tls-port", type=int, default=447)
    p.add_argument("--user", default="edge")
    p.add_argument("--password", default="edge-lab-password")
    p.add_argument("--ca")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("allocate"); a.add_argument("--tls", action="store_true")
    a.add_argument("--tcp-relay", action="store_true")
    a = sub.add_parser("garbage"); a.add_argument("--wait", type=float, default=10)
    a = sub.add_parser("stall"); a.add_argument("--wait", type=float, default=10)
    a = sub.add_parser("idle"); a.add_argument("--wait", type=float, default=10)
    a = sub.add_parser("slow-reader"); a.add_argument("--peer", required=True)
    a.add_argument("--flag", required=True); a.add_argument("--hold", type=float, default=30)
    a = sub.add_parser("flood"); a.add_argument("ip"); a.add_argument("port", type=int)
    a.add_argument("--seconds", type=float, default=3); a.add_argument("--size", type=int, default=1200)
    a.add_argument("--pps", type=float, default=20000)
    a = sub.add_parser("conns"); a.add_argument("n", type=int)
    a.add_argument("--flag", required=True); a.add_argument("--hold", type=float, default=120)
    a = sub.add_parser("probe"); a.add_argument("--tls", action="store_true")
    a.add_argument("--flag"); a.add_argument("--hold", type=float, default=60)
    a = sub.add_parser("truncated"); a.add_argument("--then", choices=["close", "stall"], default="stall")
    a = sub.add_parser("coalesce"); a.add_argument("--tls", action="store_true")
    a.add_argument("--peer", required=True)
    for name in ("tcp-relay", "tcp-accept"):
        a = sub.add_parser(name); a.add_argument("--tls", action="store_true")
        a.add_argument("--peer", required=True)
        a.add_argument("-n", type=int, default=200); a.add_argument("--size", type=int, default=1200)
        a.add_argument("--flag", default="/nonexistent"); a.add_argument("--hold", type=float, default=30)
    a = sub.add_parser("tcp-dial"); a.add_argument("ip"); a.add_argument("port", type=int)
    a.add_argument("-n", type=int, default=200); a.add_argument("--size", type=int, default=1200)
    a = sub.add_parser("tcp-echo"); a.add_argument("ip"); a.add_argument("port", type=int)
    a.add_argument("--seconds", type=float, default=120)
    o = p.parse_args()
    fn = globals()["cmd_" + o.cmd.replace("-", "_")]
    try:
        fn(o)
    except (OSError, EOFError, TimeoutError, RuntimeError, ValueError) as e:
        out("error", type(e).__name__, str(e)[:120])
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
