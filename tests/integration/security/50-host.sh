# Sourced by test_security.sh. The host itself (issue 12, finding 6 and three Low ones):
# (a) escape sequences a stranger puts in a request reach the log escaped, never raw;
# (b) ARP from a sender off the interface's subnets is not learnt, and counted;
# (c) with TURN on, the replies to the appliance's own UDP all arrive: the kernel's
#     ephemeral ports are kept out of the relay range (ip_local_reserved_ports);
# (d) the control socket is root's (0600, or 0660 with mgmt.socket_group), and a peer that
#     is neither root nor in the group is refused even where the mode lets it connect.
echo "== host: log escapes, ARP learning, the kernel's own UDP, the control socket"

# (a) ESC[2J, an OSC title and BEL from strangers: in the User-Agent and Referer of a join
# from the internet (webbridge3 on the edge), and in the Origin of a cross-site write to the
# webadmin (core), which is logged before anyone is authenticated
esc_ua=$'Mozilla/5.0 \x1b[2J\x1b]0;pwned-by-h4\x07 (X11)'
lines0=$(wc -l < "$LOG")
clines0=$(wc -l < "$CLOG")
timeout 15 ip netns exec public curl -sS -o /dev/null --cacert "$CERTS/lab-ca.pem" -A "$esc_ua" \
	-e $'https://x/\x1b[31mred' -H 'Content-Type: application/json' \
	-d '{"meetingId":"9999","passcode":"","name":"Esc"}' "https://$PUB_IP:445/api/join" >/dev/null 2>&1
timeout 15 ip netns exec internal curl -sS -o /dev/null --cacert "$CERTS/lab-ca.pem" -X POST \
	-H $'Origin: https://evil.example\x1b[2J\x1b]0;pwned-by-h4\x07' -d name=x \
	"https://$CORE_IP:443/api/v1/coSpaces" >/dev/null 2>&1
wait_log "$LOG" 'pwned-by-h4' 5
wait_log "$CLOG" 'pwned-by-h4' 5
raw=$(ctl log 50) craw=$(cctl log 50)
new_raw() { tail -n +$(($2 + 1)) "$1" | grep -c $'[\x1b\x07]'; }
if ! grep -q 'pwned-by-h4' <<<"$raw" || ! grep -q 'pwned-by-h4' <<<"$craw"; then
	bad "log escapes: a request with escapes was not logged (edge: $(grep -c pwned-by-h4 <<<"$raw"), core: $(grep -c pwned-by-h4 <<<"$craw") lines)"
elif [ "$(grep -c $'\x1b' <<<"$raw$craw")" = 0 ] && [ "$(new_raw "$LOG" "$lines0")" = 0 ] &&
	[ "$(new_raw "$CLOG" "$clines0")" = 0 ] && grep -qF '\x1b[2J\x1b]0;pwned-by-h4\x07' <<<"$craw"; then
	ok "escapes in strangers' requests reach the logs escaped (\\x1b[2J...; 0 raw ESC in the files and in edgectl log)"
else
	bad "log escapes: raw ESC/BEL in edgectl log: $(grep -c $'\x1b' <<<"$raw$craw"), in the files: $(new_raw "$LOG" "$lines0")/$(new_raw "$CLOG" "$clines0"); core line: $(grep 'pwned-by-h4' <<<"$craw" | tail -1 | cat -v)"
fi

# (b) ARP: requests for 198.18.20.1 from the public side claiming senders off 198.18.20.0/24
arp_send() {	# <sender ip>...: one ARP request each for $PUB_IP from pub0, with pub0's MAC
	timeout 10 ip netns exec public python3 - "$PUB_IP" "$@" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("pub0", 0))
mac = s.getsockname()[4]
for sip in sys.argv[2:]:
    f = b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + \
        socket.inet_aton(sip) + b"\x00" * 6 + socket.inet_aton(sys.argv[1])
    s.send(f + b"\x00" * (60 - len(f)))
PY
}
arp_refused() { ctl iface b | sed -n 's/^ *ARP not learned *: *\([0-9]*\).*/\1/p'; }
in_arp() { ctl arp | awk -v ip="$1" '$1 == ip && $2 == "b" { f = 1 } END { exit !f }'; }	# on b
r0=$(arp_refused)
arp_send 198.19.77.7 198.18.21.9 198.18.10.2
sleep 0.5
r1=$(arp_refused)
learnt=""
for sip in 198.19.77.7 198.18.21.9 198.18.10.2; do in_arp $sip && learnt="$learnt $sip"; done
if [ -n "$r1" ] && [ "$r1" -ge $((${r0:-0} + 3)) ] && [ -z "$learnt" ]; then
	ok "ARP from 3 senders off 198.18.20.0/24 on b: none learnt, 'ARP not learned' $r0 -> $r1"
else
	bad "ARP off-subnet: learnt:${learnt:- none}; 'ARP not learned' '$r0' -> '$r1'"
fi
# a sender on the subnet is still learnt (it expires by itself)
arp_send 198.18.20.77
for i in $(seq 1 20); do in_arp 198.18.20.77 && break; sleep 0.1; done
in_arp 198.18.20.77 && ok "ARP from a sender on 198.18.20.0/24 is still learnt" ||
	bad "ARP from 198.18.20.77 (on the subnet) not learnt: $(ctl arp | head -5)"

# (c) the appliance's own UDP with TURN on: 200 sockets, 200 ephemeral ports, every reply
relay=$(ctl turn | sed -n 's/^Relay ports *: *\([0-9]*-[0-9]*\).*/\1/p')
reserved=$(ip netns exec edge cat /proc/sys/net/ipv4/ip_local_reserved_ports)
if [ -n "$relay" ] && [[ ",$reserved," == *",$relay,"* ]]; then
	ok "the relay range $relay is reserved from the kernel's ephemeral ports in the edge namespace"
else
	bad "ip_local_reserved_ports in the edge namespace: '$reserved', relay range '$relay'"
fi
udp_echo() {	# <ns> <ip> <port>: a UDP echo, in the background
	ip netns exec "$1" timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)' "$2" "$3" >/dev/null 2>&1 &
	PIDS+=($!)
}
udp_many() {	# <ip> <port>: from the edge namespace, 200 sockets; "<replies> <sent> <lo> <hi> <in relay range>"
	timeout 20 ip netns exec edge python3 - "$1" "$2" "${relay%-*}" "${relay#*-}" <<'PY'
import select, socket, sys, time
dst = (sys.argv[1], int(sys.argv[2])); rlo, rhi = int(sys.argv[3]), int(sys.argv[4])
socks = []
for i in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect(dst)
    socks.append(s)
ports = [s.getsockname()[1] for s in socks]
got = set()
for attempt in range(3):	# a first datagram may wait for ARP on the way
    for i, s in enumerate(socks):
        if i not in got:
            try: s.send(b"q%d" % i)
            except OSError: pass
    end = time.time() + 2
    while len(got) < len(socks) and time.time() < end:
        r, _, _ = select.select([s for i, s in enumerate(socks) if i not in got], [], [], 0.2)
        for s in r:
            try: s.recv(64); got.add(socks.index(s))
            except OSError: pass
    if len(got) == len(socks): break
print(len(got), len(socks), min(ports), max(ports), sum(1 for p in ports if rlo <= p <= rhi))
PY
}
udp_echo internal 198.18.10.2 7071
udp_echo public 198.18.20.2 7071
sleep 0.5
for dst in 198.18.10.2 198.18.20.2; do
	read -r got sent plo phi inrange <<<"$(udp_many $dst 7071)"
	if [ "${sent:-0}" = 200 ] && [ "$got" = 200 ] && [ "$inrange" = 0 ]; then
		ok "edge -> $dst: 200 UDP queries from ephemeral ports $plo..$phi, 200 replies (none in the relay range)"
	else
		bad "edge -> $dst: $got of $sent replies, ephemeral ports $plo..$phi, $inrange in the relay range $relay"
	fi
done

# (d) the control socket
mode=$(stat -c '%a %U' "$SOCK")
[ "$mode" = "600 root" ] && ok "control socket $SOCK is 0600 root (no mgmt.socket_group)" ||
	bad "control socket mode: $mode"
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$ROOT/build/edgectl" -s "$SOCK" status 2>&1)
rc=$?
if [ $rc != 0 ] && ! grep -q "Uptime" <<<"$out"; then
	ok "edgectl as nobody is refused ($(head -1 <<<"$out"))"
else
	bad "edgectl as nobody (rc $rc): $(head -3 <<<"$out")"
fi
# were the mode ever wrong, the peer check still refuses: open it up for a moment
dmode=$(stat -c '%a' "$(dirname "$SOCK")")
chmod o+x "$(dirname "$SOCK")"
chmod 0666 "$SOCK"
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$ROOT/build/edgectl" -s "$SOCK" status 2>&1)
rc=$?
chmod 0600 "$SOCK"
chmod "$dmode" "$(dirname "$SOCK")"
if [ $rc != 0 ] && grep -q "permission denied: uid $(id -u nobody)" <<<"$out" && ! grep -q "Uptime" <<<"$out" &&
	wait_log "$LOG" "control socket: refused uid $(id -u nobody)" 3; then
	ok "a socket opened to all still refuses nobody (SO_PEERCRED): '$(head -1 <<<"$out")', logged"
else
	bad "nobody through an open socket (rc $rc): $(head -3 <<<"$out")"
fi
out=$(ctl status 2>&1) && grep -q "Uptime" <<<"$out" && ok "root's edgectl still works" ||
	bad "root's edgectl: $(head -3 <<<"$out")"
