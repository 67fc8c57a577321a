#!/usr/bin/env bash
# IPv6 in the lab (issue 18): the interfaces' IPv6 addresses (config/lab.conf: a
# 2001:db8:10::1/64, b 2001:db8:20::1/64), answered by the data plane itself — Neighbour
# Discovery and ICMPv6 echo, on the global and the link-local address — as the hosts in the
# namespaces see them with their own kernel's ping -6 and neighbour table; duplicate address
# detection (an address another host has is never used); `ipv6` changes applied live,
# persisted and refused with the bad word named; the exception path over IPv6: webbridge3,
# the webadmin and C2W on the interfaces' IPv6 addresses, a guest's browser joining over
# IPv6, and the firewall's rules (the guide's `deny 22`, an IPv6 `from`) for both families;
# TURN for IPv6 clients, IPv6 relayed addresses (alone and dual) and IPv6 peers, coturn's
# clients and aioice relaying through them, and the forbidden IPv6 peers refused with nothing leaving
# the relay (a sniffer on the internal link).
# Traffic: 2001:db8::/32 (and fe80::/64 on the links) inside the lab's namespaces only.
# Exit 77 where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
RUN=/run/edge-lab

check() { local what=$1; shift; if "$@" >/tmp/edge-ipv6.out 2>&1; then ok "$what"; else bad "$what"; sed 's/^/        /' /tmp/edge-ipv6.out | tail -15; fi; }
check_not() { local what=$1; shift; if "$@" >/tmp/edge-ipv6.out 2>&1; then bad "$what"; sed 's/^/        /' /tmp/edge-ipv6.out | tail -15; else ok "$what"; fi; }
in_pub() { timeout 20 ip netns exec public "$@"; }
in_int() { timeout 20 ip netns exec internal "$@"; }
drops() { metric edge_interface_drops_total reason="$2" -- iface "$1"; }
nd_replies() { metric edge_interface_nd_replies_total -- iface "$1"; }
echo_replies() { metric edge_interface_icmp_echo_replies_total -- iface "$1"; }

require_netns ipv6

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
echo "lab: bringing up"
if ! EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/tmp/edge-ipv6-lab.out 2>&1; then
	tail -5 /tmp/edge-ipv6-lab.out
	echo "ipv6 tests: 0 passed, 1 failed"
	exit 1
fi

# "preferred" on every address of `ipv6 <if>` (its link-local among them), within 5 s
dad_done() {
	local i
	for i in $(seq 50); do
		ctl ipv6 "$1" | grep -q tentative || return 0
		sleep 0.1
	done
	return 1
}

echo "duplicate address detection"
dad_done a && dad_done b && ok "it ends within 5 s of the start" || bad "still tentative 5 s after the start"
check "a's and b's addresses (link-locals too) pass duplicate address detection" \
	sh -c "'$ROOT/build/edgectl' -s $SOCK ipv6 a | grep -c '(preferred\|; preferred' | grep -qx 2 && '$ROOT/build/edgectl' -s $SOCK ipv6 b | grep -c '(preferred\|; preferred' | grep -qx 2 || { '$ROOT/build/edgectl' -s $SOCK ipv6 a; '$ROOT/build/edgectl' -s $SOCK ipv6 b; exit 1; }"

echo "Neighbour Discovery and ping -6, answered by the data plane"
mac_b=$(ctl iface b | awk '/MAC address/ {print tolower($4)}')
mac_a=$(ctl iface a | awk '/MAC address/ {print tolower($4)}')
in_pub ip -6 neigh flush dev pub0 >/dev/null 2>&1
in_int ip -6 neigh flush dev br0 >/dev/null 2>&1
nd0=$(nd_replies b)
e0=$(echo_replies b)
check "public host: ping -6 2001:db8:20::1 (interface b)" in_pub ping -6 -c 3 -i 0.2 -W 2 2001:db8:20::1
check "internal host: ping -6 2001:db8:10::1 (interface a)" in_int ping -6 -c 3 -i 0.2 -W 2 2001:db8:10::1
check "the public host's kernel resolved 2001:db8:20::1 to port b's MAC ($mac_b) by Neighbour Discovery" \
	sh -c "ip -n public -6 neigh show 2001:db8:20::1 | grep -qi '$mac_b'"
check "the internal host's kernel resolved 2001:db8:10::1 to port a's MAC ($mac_a)" \
	sh -c "ip -n internal -6 neigh show 2001:db8:10::1 | grep -qi '$mac_a'"
nd1=$(nd_replies b)
e1=$(echo_replies b)
[ "$((nd1 - nd0))" -ge 1 ] && [ "$((e1 - e0))" -ge 3 ] &&
	ok "b's counters: $((nd1 - nd0)) neighbour advertisements, $((e1 - e0)) echo replies" ||
	bad "b's counters: advertisements $nd0 -> $nd1, echo replies $e0 -> $e1"
ll_b=$(ctl ipv6 b | awk '/[Ll]ink-local/ {for (i = 1; i <= NF; i++) if ($i ~ /^fe80:/) {sub(/\/64$/, "", $i); print $i; exit}}')
[ -n "$ll_b" ] && check "public host: ping -6 $ll_b%pub0 (b's link-local, from its MAC)" in_pub ping -6 -c 2 -i 0.2 -W 2 "$ll_b%pub0" ||
	bad "no link-local on 'ipv6 b': $(ctl ipv6 b 2>&1 | tr '\n' ' ')"
check "large echo requests (1452 bytes of data) are answered" in_pub ping -6 -c 2 -i 0.2 -W 2 -s 1452 2001:db8:20::1
check_not "interface a's address does not answer on b (strong host model)" in_pub ping -6 -c 2 -i 0.2 -W 1 2001:db8:10::1

echo "ipv6 changes, live and persisted"
check "ipv6 b add 2001:db8:20::5/64" ctl ipv6 b add 2001:db8:20::5/64
check "its duplicate address detection ends within 5 s" dad_done b
check "then it answers" in_pub ping -6 -c 2 -i 0.2 -W 2 2001:db8:20::5
check "it is written to the configuration file" grep -q "2001:db8:20::5/64" "$RUN/edged.conf"
check "ipv6 b shows it" sh -c "'$ROOT/build/edgectl' -s $SOCK ipv6 b | grep -q '2001:db8:20::5/64'"
check "ipv6 b del 2001:db8:20::5" ctl ipv6 b del 2001:db8:20::5
in_pub ip -6 neigh flush dev pub0 >/dev/null 2>&1
check_not "the deleted address no longer answers" in_pub ping -6 -c 2 -i 0.2 -W 1 2001:db8:20::5
sum0=$(sha256sum <"$RUN/edged.conf")
for bad_cmd in "ipv6 b add 2001:db8:20::6/129" "ipv6 b add fe80::6/64" "ipv6 b add ff02::6/64" \
	"ipv6 b add 2001:db8:20::1/64" "ipv6 b add 2001:db8:zz::1/64" "ipv6 b del 2001:db8:20::99"; do
	# shellcheck disable=SC2086
	out=$(ctl $bad_cmd 2>&1)
	rc=$?
	word=${bad_cmd##* }
	[ $rc != 0 ] && grep -qF -- "${word%%/*}" <<<"$out" && ok "'$bad_cmd' refused: $out" || bad "'$bad_cmd': rc $rc: $out"
done
[ "$(sha256sum <"$RUN/edged.conf")" = "$sum0" ] && ok "the refused changes left the file as it was" || bad "a refused change wrote the file"
"$LAB" restart >/dev/null 2>&1
dad_done b
check "the addresses survive a restart" sh -c "'$ROOT/build/edgectl' -s $SOCK ipv6 b | grep -q '2001:db8:20::1/64 (preferred)' && ip netns exec public ping -6 -c 2 -i 0.2 -W 2 2001:db8:20::1"

echo "duplicate address detection refuses an address another host has"
in_pub ip -6 addr add 2001:db8:20::7/64 dev pub0 nodad
check "ipv6 b add 2001:db8:20::7/64 (the public host's)" ctl ipv6 b add 2001:db8:20::7/64
dad_done b
check "ipv6 b: it is a duplicate, with the other host's MAC" sh -c "'$ROOT/build/edgectl' -s $SOCK ipv6 b | grep '2001:db8:20::7' | grep -i \"duplicate: in use by $(ip -n public link show pub0 | awk '/ether/ {print $2}')\""
check "the log says so" sh -c "'$ROOT/build/edgectl' -s $SOCK log 50 | grep -q '2001:db8:20::7 is a duplicate'"
# the kernel mirror still holds the duplicate: what it sends from it must not leave (RFC 4862
# 5.4): neither the datagrams nor the neighbour solicitations for them
ip netns exec public timeout 20 python3 "$ROOT/tests/integration/clients/sniff6.py" --iface pub0 \
	--src 2001:db8:20::7 --any-protocol --seconds 10 >/tmp/edge-sniff6-dup.out 2>/tmp/edge-sniff6-dup.err &
SNIFF_PID=$!
for _ in $(seq 50); do grep -q ready /tmp/edge-sniff6-dup.err 2>/dev/null && break; sleep 0.1; done
k0=$(drops b KERNEL_SOURCE6)
sent=$(ip netns exec edge timeout 10 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:20::7", 0))
for i in range(3):
    s.sendto(b"from a duplicate", ("2001:db8:20::2", 9)); time.sleep(0.5)
print("sent")' 2>&1)
sleep 1
kill "$SNIFF_PID" 2>/dev/null; wait "$SNIFF_PID" 2>/dev/null
k1=$(drops b KERNEL_SOURCE6)
[ "$sent" = sent ] && [ "$(sed -n 's/^total //p' /tmp/edge-sniff6-dup.out)" = 0 ] && [ "$((k1 - k0))" -ge 1 ] &&
	ok "the kernel's datagrams from the duplicate stay in: nothing from 2001:db8:20::7 on the public link, KERNEL_SOURCE6 drops +$((k1 - k0))" ||
	bad "from the duplicate: sender '$sent', sniffer $(tr '\n' ' ' </tmp/edge-sniff6-dup.out), KERNEL_SOURCE6 $k0 -> $k1"
n0=$(nd_replies b)
in_pub ip -6 addr del 2001:db8:20::7/64 dev pub0
in_pub ip -6 neigh flush dev pub0 >/dev/null 2>&1
check_not "it is not answered for" in_pub ping -6 -c 2 -i 0.2 -W 1 2001:db8:20::7
ctl ipv6 b del 2001:db8:20::7 >/dev/null

echo "the exception path over IPv6: webbridge3, the webadmin and C2W"
if ! "$LAB" webrtc >/tmp/edge-ipv6-webrtc.out 2>&1; then
	bad "lab.sh webrtc"; tail -5 /tmp/edge-ipv6-webrtc.out
fi
CA=$RUN/certs/lab-ca.pem
check "webbridge3 over IPv6: the guest page from https://[2001:db8:20::1]:445/" \
	sh -c "ip netns exec public curl -sS -6 --max-time 10 --cacert '$CA' https://[2001:db8:20::1]:445/ | grep -qi '<html'"
check "and over IPv4 as before" \
	sh -c "ip netns exec public curl -sS --max-time 10 --cacert '$CA' https://198.18.20.1:445/ | grep -qi '<html'"
check "the webadmin's REST API over IPv6 (https://[2001:db8:10::1]/api/v1/coSpaces)" \
	sh -c "ip netns exec internal curl -sS -6 --max-time 10 --cacert '$CA' -u admin:\${EDGE_LAB_ADMIN_PW:-edge-lab-admin} https://[2001:db8:10::1]/api/v1/coSpaces | grep -q 9999"
check "C2W listens on [2001:db8:10::1]:6000 (a TLS handshake with the lab's client certificate)" \
	sh -c "ip netns exec internal timeout 10 openssl s_client -connect '[2001:db8:10::1]:6000' -CAfile '$CA' -cert $RUN/certs/core-fullchain.pem -key $RUN/certs/core.key -brief </dev/null 2>&1 | grep -q 'Verification: OK'"
check_not "a's webadmin is not on b's address (strong host model)" \
	ip netns exec public curl -sS -6 --max-time 3 -k https://[2001:db8:10::1]/
check "a closed TCP port over IPv6 is refused at once by the kernel (RST through the data plane)" \
	sh -c "ip netns exec public nc -6 -z -w 3 2001:db8:20::1 9 2>&1; [ \$? = 1 ]"

echo "the firewall, both families (the guide's 'firewall a deny 22')"
rm -f /tmp/edge-ipv6-ssh.pid	# the listener writes its PID once it listens
ip netns exec edge python3 -c '
import socket, sys, os
s6 = socket.socket(socket.AF_INET6); s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s6.bind(("2001:db8:10::1", 22)); s6.listen(16)
s4 = socket.socket(); s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s4.bind(("198.18.10.1", 22)); s4.listen(16)
print(os.getpid(), flush=True)
import select, time
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select([s4, s6], [], [], 1)
    for s in r:
        c, _ = s.accept(); c.close()
' >/tmp/edge-ipv6-ssh.pid &
SSH_PID=$!
for _ in $(seq 150); do [ -s /tmp/edge-ipv6-ssh.pid ] && break; sleep 0.1; done
check "TCP 22 over IPv6 before the firewall" in_int nc -6 -z -w 3 2001:db8:10::1 22
fw0=$(drops a FIREWALL)
check "firewall a default allow; deny 22; enable" sh -c "'$ROOT/build/edgectl' -s $SOCK firewall a default allow && '$ROOT/build/edgectl' -s $SOCK firewall a deny 22 && '$ROOT/build/edgectl' -s $SOCK firewall a enable"
check_not "TCP 22 over IPv6 is refused" in_int nc -6 -z -w 2 2001:db8:10::1 22
check_not "TCP 22 over IPv4 too" in_int nc -z -w 2 198.18.10.1 22
fw1=$(drops a FIREWALL)
[ "$((fw1 - fw0))" -ge 2 ] && ok "a's FIREWALL drops: +$((fw1 - fw0))" || bad "FIREWALL drops $fw0 -> $fw1"
check "ping -6 still passes (ICMPv6 echo)" in_int ping -6 -c 2 -i 0.2 -W 2 2001:db8:10::1
check "the webadmin over IPv6 still passes (443 is not denied)" \
	sh -c "ip netns exec internal curl -sS -6 --max-time 10 --cacert '$CA' -o /dev/null -w '%{http_code}' https://[2001:db8:10::1]/ | grep -q '^[1-5]'"
check "firewall a delete deny 22; allow 22 from 2001:db8:10::2/128; deny 22" sh -c "'$ROOT/build/edgectl' -s $SOCK firewall a delete deny 22 && '$ROOT/build/edgectl' -s $SOCK firewall a allow 22 from 2001:db8:10::2/128 && '$ROOT/build/edgectl' -s $SOCK firewall a deny 22"
check "the IPv6 'from' lets 2001:db8:10::2 in" in_int nc -6 -z -w 3 2001:db8:10::1 22
check_not "but not the same host over IPv4" in_int nc -z -w 2 198.18.10.1 22
check "the rule is saved as written" grep -q "allow 22 from 2001:db8:10::2/128" "$RUN/edged.conf"
out=$(ctl firewall a allow 22 from 2001:db8:10::2/129 2>&1) && bad "a /129 accepted: $out" ||
	{ grep -qF "2001:db8:10::2/129" <<<"$out" && ok "'from 2001:db8:10::2/129' refused: $out" || bad "refusal does not name the word: $out"; }
ctl firewall a disable >/dev/null
ctl firewall a delete allow 22 from 2001:db8:10::2/128 >/dev/null
ctl firewall a delete deny 22 >/dev/null
kill "$SSH_PID" 2>/dev/null; wait "$SSH_PID" 2>/dev/null

echo "STUN over UDP/IPv6, answered by the data plane (coturn's turnutils_stunclient)"
b0=$(metric edge_interface_stun_binding_replies_total -- iface b)
check "turnutils_stunclient [2001:db8:20::1]:3478 learns the public host's address" \
	sh -c "ip netns exec public timeout 20 turnutils_stunclient 2001:db8:20::1 2>&1 | grep -i 'reflexive addr' | grep -q '2001:db8:20::2'"
check "and on the browser port 443" \
	sh -c "ip netns exec public timeout 20 turnutils_stunclient -p 443 2001:db8:20::1 2>&1 | grep -i 'reflexive addr' | grep -q '2001:db8:20::2'"
b1=$(metric edge_interface_stun_binding_replies_total -- iface b)
[ "$((b1 - b0))" -ge 2 ] && ok "b's STUN Binding replies: +$((b1 - b0))" || bad "STUN Binding replies $b0 -> $b1"

echo "TURN for IPv6 clients over UDP, TCP and TLS (coturn's turnutils_uclient), relayed to an IPv4 peer"
ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >/dev/null 2>&1 &
PEER_PID=$!
# v6relay <label> <uclient args...>: 2 clients x 20 messages, none lost, all 40 echoed
v6relay() {
	local label=$1 out l r; shift
	out=$(timeout 90 ip netns exec public turnutils_uclient -u edge -w edge-lab-password \
		-e 198.18.10.2 -r 3480 -n 20 -m 2 -l 172 -c "$@" 2001:db8:20::1 2>&1)
	l=$(echo "$out" | sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1)
	r=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=[0-9]*, tot_recv_msgs=\([0-9]*\)$/\1/p' | tail -1)
	[ "$l" = 0 ] && [ "${r:-0}" = 40 ] && ok "$label: none lost ($r echoed)" ||
		bad "$label: lost '$l', echoed '$r' of 40: $(echo "$out" | tail -3 | tr '\n' ' ')"
}
v6relay "UDP to [2001:db8:20::1]:3478, channels (the data plane's fast path)"
v6relay "UDP, Send and Data indications" -s
v6relay "UDP on the browser port 443" -p 443
out=$(timeout 30 ip netns exec public /usr/bin/python3 "$ROOT/tests/integration/clients/aioice_relay.py" 2001:db8:20::1 2>&1)
echo "$out" | grep -q "^relay 198.18.10.1 " && ok "aioice over UDP/IPv6 gathers a relayed candidate ($(echo "$out" | grep -m1 ^relay))" ||
	bad "aioice over UDP/IPv6: $out"
v6relay "TCP to [2001:db8:20::1]:3478" -t
v6relay "TLS to [2001:db8:20::1]:447" -t -S -p 447
v6relay "the browser port, TCP to [2001:db8:20::1]:443" -t -p 443
check "turn allocations showed the IPv6 clients in the log" sh -c "'$ROOT/build/edgectl' -s $SOCK log 300 | grep -q 'allocation for edge \[2001:db8:20::2\]'"
check "an IPv6 client's Binding over TCP is told its IPv6 address (XOR-MAPPED-ADDRESS)" \
	sh -c "ip netns exec public timeout 20 python3 -c '
import socket, struct, os, sys
s = socket.create_connection((\"2001:db8:20::1\", 3478), timeout=5)
tid = os.urandom(12)
s.sendall(struct.pack(\"!HHI\", 1, 0, 0x2112A442) + tid)
h = s.recv(20); body = s.recv(struct.unpack(\"!H\", h[2:4])[0])
i = 0
while i < len(body):
    t, l = struct.unpack(\"!HH\", body[i:i + 4]); v = body[i + 4:i + 4 + l]
    if t == 0x20:
        key = struct.pack(\"!I\", 0x2112A442) + tid
        ip = bytes(a ^ b for a, b in zip(v[4:20], key))
        print(v[1], socket.inet_ntop(socket.AF_INET6, ip)); sys.exit(0 if v[1] == 2 and socket.inet_ntop(socket.AF_INET6, ip) == \"2001:db8:20::2\" else 1)
    i += 4 + (l + 3) // 4 * 4
sys.exit(1)
'"
kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null

echo "TURN with IPv6 relayed addresses and IPv6 peers (RFC 8656: coturn's turnutils_uclient -x and -Z)"
# the internal network's IPv6 prefix sits behind the internal interface, refused by default
# like its IPv4 subnet: the lab allows it as it allows 198.18.0.0/15 (config/lab.conf)
ctl turn peers allow 2001:db8:10::/64 >/dev/null || bad "turn peers allow 2001:db8:10::/64"
ip netns exec internal turnutils_peer -L 2001:db8:10::2 -p 3481 >/dev/null 2>&1 &
PEER6_PID=$!
sleep 0.5
# peer6 <label> <server> <uclient args...>: 2 clients x 20 messages to [2001:db8:10::2]:3481
peer6() {
	local label=$1 server=$2 out l r; shift 2
	out=$(timeout 90 ip netns exec public turnutils_uclient -u edge -w edge-lab-password \
		-e 2001:db8:10::2 -r 3481 -n 20 -m 2 -l 172 "$@" "$server" 2>&1)
	l=$(echo "$out" | sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1)
	r=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=[0-9]*, tot_recv_msgs=\([0-9]*\)$/\1/p' | tail -1)
	[ "$l" = 0 ] && [ "${r:-0}" = 40 ] && ok "$label: none lost ($r echoed)" ||
		bad "$label: lost '$l', echoed '$r' of 40: $(echo "$out" | tail -3 | tr '\n' ' ')"
}
peer6 "IPv6 client, IPv6 relayed address [2001:db8:10::1] (-x), channels" 2001:db8:20::1 -x -c
peer6 "IPv6 client, IPv6 relayed address, Send and Data indications" 2001:db8:20::1 -x -c -s
peer6 "IPv4 client 198.18.20.2, a dual allocation (-Z: ADDITIONAL-ADDRESS-FAMILY), to the IPv6 peer" 198.18.20.1 -Z
peer6 "IPv6 client over TCP, IPv6 relayed address (-t -x: the control plane relays)" 2001:db8:20::1 -t -x -c
peer6 "IPv4 client over TLS on 447, IPv6 relayed address (-t -S -x)" 198.18.20.1 -t -S -p 447 -x -c
check "the log shows the IPv6 and the dual allocations" sh -c "'$ROOT/build/edgectl' -s $SOCK log 400 | grep -q 'relay [0-9]* (IPv6)' && '$ROOT/build/edgectl' -s $SOCK log 400 | grep -q 'relay [0-9]* (IPv4 and IPv6)'"
out=$(timeout 30 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_pivot.py" \
	--server 2001:db8:20::1 --user edge --password edge-lab-password --family 46 permission \
	'[2001:db8:10::2]:3481' 198.18.10.2:3480 2>&1)
grep -q '^relayed 198.18.10.1:' <<<"$out" && grep -q '^relayed \[2001:db8:10::1\]:' <<<"$out" &&
	[ "$(grep -c '^permission .* 0$' <<<"$out")" = 2 ] &&
	ok "a dual allocation answers both relayed addresses on one port and takes a peer of each family ($(grep '^relayed' <<<"$out" | paste -sd' '))" ||
	bad "dual allocation: $(tr '\n' ' ' <<<"$out")"
out=$(timeout 30 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_pivot.py" \
	--server 198.18.20.1 --user edge --password edge-lab-password permission '[2001:db8:10::2]:3481' 2>&1)
grep -q '^permission 443$' <<<"$out" && ok "an IPv6 peer of an IPv4-only allocation: 443 (Peer Address Family Mismatch)" ||
	bad "IPv6 peer on an IPv4 allocation: $(tr '\n' ' ' <<<"$out")"
# aioice (Debian's) asks for an IPv6 relayed address with REQUESTED-ADDRESS-FAMILY over UDP/IPv6
out=$(timeout 30 ip netns exec public /usr/bin/python3 "$ROOT/tests/integration/clients/aioice_relay.py" 2001:db8:20::1 --family 6 2>&1)
grep -q '^relay 2001:db8:10::1 ' <<<"$out" && ok "aioice gathers an IPv6 relayed candidate ($(grep -m1 ^relay <<<"$out"))" ||
	bad "aioice, REQUESTED-ADDRESS-FAMILY IPv6: $(tr '\n' ' ' <<<"$out")"

# the forbidden IPv6 peers: each CreatePermission 403, then a Send indication to each, and
# nothing leaves the relay address onto the internal link (a sniffer there); the allowed
# peer last, which the sniffer must see (it works)
FORBIDDEN6=('[::1]:3481' '[::]:3481' '[fe80::1]:3481' '[ff02::1]:3481' '[::ffff:198.18.10.2]:3481'
	'[::198.18.10.2]:3481' '[64:ff9b::7f00:1]:3481' '[64:ff9b::c612:a01]:3481' '[2002:c612:a01::1]:3481'
	'[fd00::2]:3481' '[2001:db8:10::1]:3481' '[2001:db8:10::]:3481' '[2001:db8:20::1]:3481')
ip netns exec internal timeout 40 python3 "$ROOT/tests/integration/clients/sniff6.py" --iface int0 \
	--src 2001:db8:10::1 --seconds 30 >/tmp/edge-sniff6.out 2>/tmp/edge-sniff6.err &
SNIFF_PID=$!
for _ in $(seq 50); do grep -q ready /tmp/edge-sniff6.err 2>/dev/null && break; sleep 0.1; done
f0=$(ctl turn stats | sed -n 's/^Forbidden peers *: *\([0-9]*\).*/\1/p')
out=$(timeout 30 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_pivot.py" \
	--server 2001:db8:20::1 --user edge --password edge-lab-password --family 6 permission "${FORBIDDEN6[@]}" 2>&1)
n403=$(grep -c '^permission .* 403$' <<<"$out")
[ "$n403" = "${#FORBIDDEN6[@]}" ] && ok "the forbidden IPv6 peers (loopback, ::, link-local, multicast, mapped, compatible, NAT64 and 6to4 of loopback and of our own address, unique-local, our own addresses, the subnet-router anycast): 403 each (${n403} of ${#FORBIDDEN6[@]})" ||
	bad "forbidden IPv6 peers: $n403 of ${#FORBIDDEN6[@]} got 403: $(grep -v ' 403$' <<<"$out" | tr '\n' ' ')"
f1=$(ctl turn stats | sed -n 's/^Forbidden peers *: *\([0-9]*\).*/\1/p')
[ "$((f1 - f0))" -ge "${#FORBIDDEN6[@]}" ] && ok "turn stats counted them: Forbidden peers $f0 -> $f1" ||
	bad "Forbidden peers $f0 -> $f1"
timeout 30 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_pivot.py" \
	--server 2001:db8:20::1 --user edge --password edge-lab-password --family 6 send "${FORBIDDEN6[@]}" >/dev/null 2>&1
# the control: a permitted IPv6 peer, relayed through the same relay address
timeout 30 ip netns exec public python3 -c '
import sys; sys.argv[1:] = ["--server", "2001:db8:20::1", "--user", "edge", "--password",
    "edge-lab-password", "--family", "6", "permission", "[2001:db8:10::2]:3481"]
sys.path.insert(0, "'"$ROOT"'/tests/integration/clients")
import turn_pivot as tp, argparse, time
a = argparse.Namespace(server="2001:db8:20::1", port=3478, user="edge", password="edge-lab-password",
    secret=None, name="x")
t = tp.Turn(a, False)
assert t.authed(tp.ALLOCATE, [tp.attr(tp.A_TRANSPORT, bytes([17, 0, 0, 0])), tp.attr(tp.A_FAMILY, bytes([2, 0, 0, 0]))]) == 0
assert t.authed(tp.CREATE_PERMISSION, lambda tid: [tp.xor_peer("2001:db8:10::2", 3481, tid)]) == 0
for i in range(3):
    t.send("2001:db8:10::2", 3481, b"control %d" % i)
time.sleep(0.5)
' >/dev/null 2>&1
sleep 0.5
kill "$SNIFF_PID" 2>/dev/null; wait "$SNIFF_PID" 2>/dev/null
total=$(sed -n 's/^total //p' /tmp/edge-sniff6.out)
others=$(grep '^udp ' /tmp/edge-sniff6.out | grep -v '^udp 2001:db8:10::2 3481 ' | wc -l)
ctrl=$(sed -n 's/^udp 2001:db8:10::2 3481 //p' /tmp/edge-sniff6.out)
[ "${ctrl:-0}" -ge 3 ] && [ "$others" = 0 ] &&
	ok "the sniffer on the internal link saw the permitted peer's 3 datagrams from [2001:db8:10::1] and nothing towards the forbidden ones (total $total)" ||
	bad "sniffer: permitted peer '${ctrl}', other flows $others: $(tr '\n' ' ' </tmp/edge-sniff6.out)"
ctl turn peers delete allow 2001:db8:10::/64 >/dev/null
kill "$PEER6_PID" 2>/dev/null; wait "$PEER6_PID" 2>/dev/null

echo "a guest joins the meeting over IPv6 (headless Chromium)"
if command -v chromium >/dev/null; then
	check "browser_join.py --url https://[2001:db8:20::1]:445/ joins 9999" \
		ip netns exec public timeout 90 python3 "$ROOT/tests/integration/clients/browser_join.py" \
		--url "https://[2001:db8:20::1]:445/" --ca "$CA" --meeting 9999 --name Six --stay 3
	# the guests' TURN URLs name the edge's IPv6 address alone: relay=1 leaves the browsers
	# nothing but our TURN over UDP/IPv6, judged from their own getStats()
	PW=${EDGE_LAB_ADMIN_PW:-edge-lab-admin}
	gen() { ip netns exec internal curl -sS --max-time 10 --cacert "$CA" -u "admin:$PW" -o /dev/null -w '%{http_code}' https://198.18.10.1/general -d "turnClientAddress=$1"; }
	code=$(gen 2001:db8:20::1)
	[ "$code" -lt 400 ] 2>/dev/null && ok "turnClientAddress 2001:db8:20::1 (REST API: HTTP $code)" ||
		bad "turnClientAddress 2001:db8:20::1: HTTP $code"
	if ip netns exec public timeout 200 python3 "$ROOT/tests/integration/clients/browser_media.py" \
		--url "https://[2001:db8:20::1]:445/" --ca "$CA" --meeting 9999 --guests 2 --relay \
		>/tmp/edge-ipv6-media.json 2>/tmp/edge-ipv6-media.err; then
		ok "2 Chromium guests see and hear each other relayed only through TURN at [2001:db8:20::1] (getStats: $(grep -o '"framesDecoded": {[^}]*}' /tmp/edge-ipv6-media.json | head -2 | paste -sd' '))"
	else
		bad "Chromium relayed over TURN/IPv6: $(tail -1 /tmp/edge-ipv6-media.err)"
	fi
	grep -q '"relayProtocol": "udp"' /tmp/edge-ipv6-media.json && ok "getStats: the selected local candidate is a relay one over UDP" ||
		bad "getStats: candidates $(grep -o '"candidate": {[^}]*}' /tmp/edge-ipv6-media.json | head -2)"
	# the guests' allocations (REST API credentials, not the operator's user 'edge'), from an
	# IPv6 client over UDP (no /tcp or /tls after the port)
	l1=$(ctl log 2000 | grep 'allocation for [^ ]* \[2001:db8:20::[0-9a-f]*\]:[0-9]*: relay' | grep -vc 'allocation for edge ')
	[ "$l1" -gt 0 ] && ok "the TURN server allocated for the browsers over UDP/IPv6 ($l1 allocations)" ||
		bad "no guest's UDP/IPv6 allocation in the log"
	[ "$(gen 198.18.20.1)" -lt 400 ] 2>/dev/null || bad "turnClientAddress back to 198.18.20.1"
else
	bad "no chromium or browser_join.py"
fi
echo "media over IPv6: our IPv6 host candidate on the media port, the SFU's fast path (no TURN)"
if command -v chromium >/dev/null; then
	# the media port on b (the guests' side): a socket on 198.18.20.1 and on 2001:db8:20::1
	M6_C0=$(ctl log 2000 | wc -l)
	ctl callbridge media b:10000 >/dev/null && ctl callbridge restart >/dev/null 2>&1
	m6_page=""
	for _ in $(seq 50); do
		m6_page=$(ctl callbridge media 2>&1)
		grep -qx 'Media ports (IPv6)        : \[2001:db8:20::1\]:10000' <<<"$m6_page" && break
		sleep 0.2
	done
	grep -qx 'Media ports               : 198.18.20.1:10000' <<<"$m6_page" &&
		grep -qx 'Media ports (IPv6)        : \[2001:db8:20::1\]:10000' <<<"$m6_page" &&
		ok "callbridge media b:10000: sockets on 198.18.20.1:10000 and [2001:db8:20::1]:10000" ||
		bad "callbridge media page: $(head -3 <<<"$m6_page" | paste -sd'|')"
	rx6_0=$(metric edge_interface_sfu_rx_packets_total -- iface b 2>/dev/null || echo 0)
	if ip netns exec public timeout 200 python3 "$ROOT/tests/integration/clients/browser_media.py" \
		--url "https://[2001:db8:20::1]:445/" --ca "$CA" --meeting 9999 --guests 2 \
		--remote-host 2001:db8:20::1 >/tmp/edge-ipv6-media6.json 2>/tmp/edge-ipv6-media6.err; then
		ok "2 Chromium guests see and hear each other over IPv6, their selected pair's remote candidate our host candidate [2001:db8:20::1]:10000 (getStats: $(grep -o '"framesDecoded": {[^}]*}' /tmp/edge-ipv6-media6.json | head -2 | paste -sd' '))"
	else
		bad "Chromium media over IPv6 to the media port: $(tail -1 /tmp/edge-ipv6-media6.err) ($(grep -o '"candidate": {[^}]*}' /tmp/edge-ipv6-media6.json | head -2 | paste -sd' '))"
	fi
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
c = [g.get("candidate") or {} for g in d["guests"]]
sys.exit(0 if len(c) == 2 and all(x.get("remote") == "host" and x.get("local") != "relay" and x.get("remoteIp") == "2001:db8:20::1" and str(x.get("remotePort")) == "10000" for x in c) else 1)' /tmp/edge-ipv6-media6.json 2>/dev/null &&
		ok "getStats: both guests' selected pairs end at host [2001:db8:20::1]:10000, none relayed" ||
		bad "getStats: candidates $(grep -o '"candidate": {[^}]*}' /tmp/edge-ipv6-media6.json | head -2 | paste -sd' ')"
	m6_log=$(ctl log 2000 | tail -n +"$((M6_C0 + 1))")
	n6=$(grep -c 'media: leg [0-9a-f-]* path nominated: \[2001:db8:20::2\]:[0-9]* (direct)' <<<"$m6_log")
	[ "$n6" -ge 2 ] && grep -q 'media: leg [0-9a-f-]* DTLS done' <<<"$m6_log" &&
		ok "log: ICE checks from [2001:db8:20::2] nominated ($n6 legs), DTLS done over IPv6" ||
		bad "media log: $(grep 'media: leg' <<<"$m6_log" | tail -4 | paste -sd'|')"
	rx6_1=$(metric edge_interface_sfu_rx_packets_total -- iface b 2>/dev/null || echo 0)
	[ "$((rx6_1 - rx6_0))" -gt 500 ] 2>/dev/null &&
		ok "the data plane forwarded their SRTP itself ($((rx6_1 - rx6_0)) packets into the SFU's fast path on b)" ||
		bad "SFU fast path on b: $rx6_0 -> $rx6_1 packets"
	ctl callbridge media a:10000 >/dev/null && ctl callbridge restart >/dev/null 2>&1
else
	bad "no chromium for the IPv6 media check"
fi
ctl status >/dev/null && ok "edged still answers" || bad "edged is gone"

finish ipv6
