#!/usr/bin/env bash
# TURN over UDP in the lab, driven by clients nobody here wrote: coturn's turnutils_uclient
# (channels, Send indications, TURN REST API credentials) relaying to turnutils_peer in the
# internal namespace through the data plane, turnutils_stunclient for Binding, and the
# negative cases a user would hit. Exit 77 where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
PEER_PID=
FAR_PID=
FAR_NS=edge-far

uclient() { timeout 60 ip netns exec public turnutils_uclient "$@" 198.18.20.1 2>&1; }
lost() { sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1; }

require_netns turn
command -v turnutils_uclient >/dev/null || { echo "turn tests: coturn's clients missing (scripts/setup.sh installs them)"; echo "turn tests: 0 passed, 1 failed"; exit 1; }

cleanup() {
	[ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null
	[ -n "$FAR_PID" ] && kill "$FAR_PID" 2>/dev/null
	ip netns del "$FAR_NS" 2>/dev/null
	"$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/dev/null || { echo "turn tests: 0 passed, 1 failed"; exit 1; }
ctl turn enable >/dev/null
ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >/dev/null 2>&1 &
PEER_PID=$!
sleep 0.5

echo "Binding"
out=$(timeout 10 ip netns exec public turnutils_stunclient 198.18.20.1 2>&1)
if echo "$out" | grep -q "UDP reflexive addr: 198.18.20.2:"; then ok "turnutils_stunclient gets its reflexive address"; else bad "stunclient: $out"; fi
n=$(ctl iface b | sed -n 's/ *STUN Binding replies *: \([0-9]*\)/\1/p')
if [ "${n:-0}" -ge 1 ]; then ok "the data plane answered it ($n Binding replies on b)"; else bad "Binding replies on b: '$n'"; fi

echo "ICE: aioice gathers a relayed candidate"
out=$(timeout 30 ip netns exec public /usr/bin/python3 tests/integration/clients/aioice_relay.py 2>&1)
if echo "$out" | grep -q "^relay 198.18.10.1 "; then ok "aioice's relayed candidate is on the relay address ($out)"; else bad "aioice: $out"; fi

echo "relaying through the data plane"
l=$(uclient -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 -n 50 -m 2 -l 172 -c | lost)
if [ "$l" = 0 ]; then ok "ChannelData, 2 clients x 50 packets of 172 bytes: none lost"; else bad "ChannelData: lost '$l'"; fi
l=$(uclient -s -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 -n 50 -m 1 -l 172 -c | lost)
if [ "$l" = 0 ]; then ok "Send/Data indications, 50 packets: none lost"; else bad "Send/Data indications: lost '$l'"; fi
l=$(uclient -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 -n 30 -m 1 -l 1200 -c | lost)
if [ "$l" = 0 ]; then ok "1200-byte payloads: none lost"; else bad "1200-byte payloads: lost '$l'"; fi
c2p=$(ctl turn stats | sed -n 's/Relayed client -> peer *: \([0-9]*\) packets.*/\1/p')
if [ "${c2p:-0}" -ge 180 ]; then ok "the data plane relayed them ($c2p packets client -> peer)"; else bad "relayed client -> peer: '$c2p'"; fi

echo "TURN REST API (shared secret)"
ctl turn shared-secret lab-shared-secret-1 >/dev/null
# a REST API credential is a guest's: it allocates, but reaches only the media targets the
# appliance names (none here), never the internal host (issue 12)
a0=$(stat_of "Allocations created"); g0=$(stat_of "Guest refusals")
l=$(uclient -W lab-shared-secret-1 -u carol -e 198.18.10.2 -r 3480 -n 20 -m 1 -l 172 -c | lost)
a1=$(stat_of "Allocations created"); g1=$(stat_of "Guest refusals")
if [ "${a1:-0}" -gt "${a0:-0}" ] && [ "${g1:-0}" -gt "${g0:-0}" ] && [ "$l" != 0 ]; then
	ok "time-limited credentials from the shared secret allocate, and relay to no internal host (guest refusals $g0 -> $g1)"
else
	bad "shared secret: allocations $a0 -> $a1, guest refusals $g0 -> $g1, lost '$l'"
fi
out=$(uclient -W wrong-secret-000 -u carol -e 198.18.10.2 -r 3480 -n 3 -m 1 -c)
if echo "$out" | grep -q "Cannot complete Allocation"; then ok "a wrong shared secret gets no allocation"; else bad "wrong secret: $(echo "$out" | tail -2)"; fi

echo "refusals"
before=$(stat_of "Authentication failures")
out=$(uclient -u edge -w not-the-password -e 198.18.10.2 -r 3480 -n 3 -m 1 -c)
after=$(stat_of "Authentication failures")
if echo "$out" | grep -q "Cannot complete Allocation" && [ "${after:-0}" -gt "${before:-0}" ]; then
	ok "a wrong password gets no allocation (401, counted: $before -> $after)"
else
	bad "wrong password: $(echo "$out" | tail -2)"
fi
ctl turn peers deny 198.18.10.0/24 >/dev/null
out=$(uclient -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 -n 5 -m 1 -c)
l=$(echo "$out" | lost)
forbidden=$(stat_of "Forbidden peers")
if [ "${forbidden:-0}" -ge 1 ] && [ "$l" != 0 ]; then ok "a denied peer range: 403, nothing relayed ($forbidden refusals)"; else bad "denied peer: forbidden='$forbidden' lost='$l'"; fi
ctl turn peers delete deny 198.18.10.0/24 >/dev/null
ctl turn quota total 1 >/dev/null
out=$(uclient -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 -n 3 -m 2 -c)
q=$(stat_of "Quota refusals")
if [ "${q:-0}" -ge 1 ]; then ok "over the allocation quota: 486 ($q refusals)"; else bad "quota: '$q'"; fi
ctl turn quota total none >/dev/null
ch=$(ip netns exec public /usr/bin/python3 - <<'PY'
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect(("198.18.20.1", 3478))
def ask(msg):
    s.send(msg)
    try: return s.recv(2048)
    except socket.timeout: return b""
tid = os.urandom(12)
# an Allocate without credentials: a 401 challenge with REALM and NONCE
r = ask(struct.pack("!HHI", 0x0003, 8, 0x2112a442) + tid + struct.pack("!HHBBH", 0x0019, 4, 17, 0, 0))
ok1 = len(r) >= 20 and r[0:2] == b"\x01\x13" and b"lab.example" in r
# a request whose length field runs past the datagram: 400, not a crash
r2 = ask(struct.pack("!HHI", 0x0003, 64, 0x2112a442) + os.urandom(12) + b"\x00\x19\x00\x04")
ok2 = len(r2) >= 20 and r2[0:2] == b"\x01\x13" and b"\x04\x00" in r2[20:40]
# an unknown comprehension-required attribute: 420 with UNKNOWN-ATTRIBUTES
r3 = ask(struct.pack("!HHI", 0x0003, 8, 0x2112a442) + os.urandom(12) + struct.pack("!HHI", 0x0031, 4, 0))
ok3 = len(r3) >= 20 and b"\x00\x0a\x00\x02\x00\x31" in r3
# garbage that is not STUN at all: silence
r4 = ask(b"\xff" * 40)
print(int(ok1), int(ok2), int(ok3), int(r4 == b""))
PY
)
set -- $ch
[ "${1:-0}" = 1 ] && ok "an unauthenticated Allocate is challenged (401, REALM, NONCE)" || bad "401 challenge"
[ "${2:-0}" = 1 ] && ok "a truncated request gets 400" || bad "400 for a truncated request"
[ "${3:-0}" = 1 ] && ok "an unknown comprehension-required attribute gets 420 with UNKNOWN-ATTRIBUTES" || bad "420"
[ "${4:-0}" = 1 ] && ok "non-STUN garbage is dropped silently" || bad "garbage answered"
if ctl status >/dev/null; then ok "edged still answers after all that"; else bad "edged is gone"; fi

echo "a static route: a peer behind a router on the internal side"
# 198.18.30.0/24 is behind the internal namespace, which also answers as 198.18.10.4; a's
# gateway (198.18.10.2) reaches it too, so the neighbour table tells which way was taken
ip netns del "$FAR_NS" 2>/dev/null
ip netns add "$FAR_NS" && ip -n "$FAR_NS" link set lo up &&
	ip link add far0 netns internal type veth peer name far1 netns "$FAR_NS" &&
	ip -n internal addr add 198.18.30.1/24 dev far0 && ip -n internal link set far0 up &&
	ip -n internal addr add 198.18.10.4/24 dev int0 &&
	ip -n "$FAR_NS" addr add 198.18.30.2/24 dev far1 && ip -n "$FAR_NS" link set far1 up &&
	ip -n "$FAR_NS" route add default via 198.18.30.1 &&
	ip netns exec internal sysctl -qw net.ipv4.ip_forward=1 || bad "cannot make the routed peer's namespace"
ip netns exec "$FAR_NS" turnutils_peer -L 198.18.30.2 -p 3480 >/dev/null 2>&1 &
FAR_PID=$!
sleep 0.5
l=$(uclient -u edge -w edge-lab-password -e 198.18.30.2 -r 3480 -n 10 -m 1 -l 172 -c | lost)
[ "$l" = 0 ] && ! ctl arp | grep -q "198\.18\.10\.4 " && ok "without a route, 198.18.30.2 is reached through a's gateway" || bad "via the gateway: lost '$l', $(ctl arp)"
out=$(ctl ipv4 a route add 198.18.30.0/24 198.18.10.4 2>&1)
[ $? = 0 ] && ctl ipv4 a | grep -q "Route                   : 198.18.30.0/24 via 198.18.10.4" &&
	ok "edgectl ipv4 a route add 198.18.30.0/24 198.18.10.4" || bad "route add: $out"
l=$(uclient -u edge -w edge-lab-password -e 198.18.30.2 -r 3480 -n 50 -m 2 -l 172 -c | lost)
[ "$l" = 0 ] && ctl arp | grep -q "198\.18\.10\.4 " &&
	ok "through the route's gateway 198.18.10.4, 2 clients x 50 packets to 198.18.30.2: none lost" || bad "routed relay: lost '$l', $(ctl arp)"
ip -n edge route show 198.18.30.0/24 | grep -q "via 198.18.10.4" &&
	ok "the kernel mirror routes 198.18.30.0/24 via 198.18.10.4 too" || bad "kernel route: $(ip -n edge route show)"
ip netns exec edge ping -c 1 -W 2 198.18.30.2 >/dev/null 2>&1 &&
	ok "the control plane reaches 198.18.30.2 through the route (ping)" || bad "no ping to 198.18.30.2"
grep -q '"198.18.30.0/24 198.18.10.4"' /run/edge-lab/edged.conf && ok "the route is saved in the configuration" || bad "route not saved: $(grep -n routes /run/edge-lab/edged.conf)"
ctl ipv4 a route del 198.18.30.0/24 >/dev/null
! ip -n edge route show 198.18.30.0/24 | grep -q via && ok "route del: gone from the kernel mirror too" || bad "kernel route left: $(ip -n edge route show)"
kill "$FAR_PID" 2>/dev/null; FAR_PID=
ip netns del "$FAR_NS"
ip -n internal addr del 198.18.10.4/24 dev int0

echo "status pages"
ctl turn | grep -q "^Enabled                 : true" && ok "turn status page says Enabled : true" || bad "turn page"
ctl turn stats | grep -q "error 401" && ok "turn stats counts errors by code" || bad "turn stats"

echo "metrics: the registry reads the same counters (no traffic now)"
m=$(ctl metrics)
for d in "client -> peer:client_to_peer" "peer -> client:peer_to_client"; do
	t=$(ctl turn stats | sed -n "s/Relayed ${d%%:*} *: \([0-9]*\) packets.*/\1/p")
	v=$(echo "$m" | sed -n "s/^edge_turn_relayed_packets_total{direction=\"${d#*:}\",transport=\"udp\"} //p")
	[ -n "$t" ] && [ "$t" -gt 0 ] && [ "$v" = "$t" ] && ok "metrics: relayed ${d#*:} packets = turn stats ($v)" ||
		bad "metrics relayed ${d#*:}: '$v', turn stats '$t'"
done
echo "$m" | grep -q '^edge_turn_errors_total{code="401"} [1-9]' && ok "metrics: TURN errors by code" || bad "metrics: no 401 in $(echo "$m" | grep errors_total)"
if command -v promtool >/dev/null; then
	out=$(echo "$m" | promtool check metrics 2>&1) && ok "promtool check metrics accepts edgectl metrics" || bad "promtool: $out"
fi
ctl metrics json | python3 -c 'import json,sys; f=json.load(sys.stdin)["families"]; assert any(x["name"]=="edge_turn_relayed_packets_total" for x in f)' &&
	ok "edgectl metrics json parses" || bad "metrics json"

finish turn
