# Sourced by test_security.sh. The core's media port takes anyone's datagrams: ICE checks with
# a wrong username or password get no answer at all (nothing to reflect), DTLS from a path no
# check came from is dropped before OpenSSL sees it, RTP from no leg and garbage of any size are
# dropped and counted; the media server keeps serving.
echo "== the media port: wrong ICE credentials, DTLS and RTP floods, garbage"

mstat() { cctl callbridge media | sed -n "s/^$1 *: *//p"; }
# media_flood <kind> <count>: from the internal network to the core's media port; prints how
# many answers came back within a second of the last datagram
media_flood() {
	timeout 60 ip netns exec internal python3 - "$CORE_IP" "$MEDIA_PORT" "$1" "$2" <<'PY'
import hashlib, hmac, os, socket, struct, sys, time, zlib
ip, port, kind, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.10.2", 0))

def stun_check(user, pwd):
    attrs = struct.pack("!HH", 0x0006, len(user)) + user + b"\0" * (-len(user) % 4)
    attrs += struct.pack("!HHI", 0x0024, 4, 0x6e7f1eff)            # PRIORITY
    attrs += struct.pack("!HHQ", 0x802a, 8, 0x1122334455667788)    # ICE-CONTROLLING
    tid = os.urandom(12)
    hdr = lambda extra: struct.pack("!HHI", 0x0001, len(attrs) + extra, 0x2112A442) + tid
    mi = hmac.new(pwd, hdr(24) + attrs, hashlib.sha1).digest()
    attrs += struct.pack("!HH", 0x0008, 20) + mi
    fp = (zlib.crc32(hdr(8) + attrs) ^ 0x5354554e) & 0xffffffff
    return hdr(8) + attrs + struct.pack("!HHI", 0x8028, 4, fp)

for i in range(n):
    if kind == "stun":
        pkt = stun_check(b"nosuchuf:browser", b"not-the-password-of-any-leg")
    elif kind == "dtls":    # a ClientHello's record header, then junk
        pkt = bytes([22, 0xfe, 0xfd]) + os.urandom(8) + struct.pack("!H", 120) + os.urandom(120)
    elif kind == "rtp":
        pkt = bytes([0x80, 111]) + os.urandom(10 + i % 1200)
    else:                   # garbage of every size up to a full frame, and empty
        pkt = os.urandom(i % 1473)
    s.sendto(pkt, (ip, port))
    if i % 100 == 99:       # a flood, but one the media port's socket buffer can hold
        time.sleep(0.01)
s.settimeout(1.0)
answers = 0
try:
    while True:
        s.recvfrom(2048)
        answers += 1
except socket.timeout:
    pass
print(answers)
PY
}

u0=$(mstat "Unknown ICE username")
a=$(media_flood stun 500)
u1=$(mstat "Unknown ICE username")
[ "$a" = 0 ] && [ "$((u1 - u0))" -ge 500 ] && ok "500 ICE checks with a username no leg has: no answer, counted ($u0 -> $u1)" ||
	bad "ICE checks with a wrong username: $a answers, counted '$u0' -> '$u1'"
d0=$(mstat "DTLS from unknown paths")
a=$(media_flood dtls 2000)
d1=$(mstat "DTLS from unknown paths")
[ "$a" = 0 ] && [ "$((d1 - d0))" -ge 1900 ] && ok "2000 DTLS ClientHellos from a path no check came from: no answer, no handshake, counted ($d0 -> $d1)" ||
	bad "DTLS flood: $a answers, counted '$d0' -> '$d1'"
[ "$(mstat "DTLS handshakes refused")" = 0 ] && ok "... so no handshake slot was taken" || bad "handshakes refused: $(mstat "DTLS handshakes refused")"
n0=$(cctl iface a | sed -n 's/^ *MEDIA_NO_LEG *\([0-9]*\).*/\1/p')
a=$(media_flood rtp 1000)
n1=$(cctl iface a | sed -n 's/^ *MEDIA_NO_LEG *\([0-9]*\).*/\1/p')
[ "$a" = 0 ] && [ "$((${n1:-0} - ${n0:-0}))" -ge 900 ] && ok "1000 RTP packets from no leg: dropped on the data plane as MEDIA_NO_LEG (${n0:-0} -> $n1)" ||
	bad "RTP flood: $a answers, MEDIA_NO_LEG '$n0' -> '$n1'"
g0=$(mstat "Not STUN\/DTLS\/RTP")
a=$(media_flood garbage 1473)
g1=$(mstat "Not STUN\/DTLS\/RTP")
[ "$a" = 0 ] && [ "$((g1 - g0))" -ge 500 ] && ok "garbage of every size from 0 to 1472 bytes: no answer, counted ($g0 -> $g1)" ||
	bad "garbage: $a answers, counted '$g0' -> '$g1'"
cctl callbridge media | grep -q "^Media ports               : $CORE_IP:$MEDIA_PORT$" && kill -0 "$(cat /run/edge-lab/core.pid 2>/dev/null)" 2>/dev/null &&
	ok "the core's media server still serves its port" || bad "media server after the floods: $(cctl callbridge media | head -3)"
legit_guest "after the media port's floods"
