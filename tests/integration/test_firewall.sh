#!/usr/bin/env bash
# The in-line firewall in the lab: the guide's three lines, default deny with explicit
# allows, replies to the appliance's own connections, TURN kept relaying, counters, a rule
# change under traffic, persistence across a restart. Exit 77 where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
PIDS=()

# tcp_open <ns> <addr> <port>: 0 if a TCP connection is accepted within 2 s
tcp_open() { timeout 4 ip netns exec "$1" nc -z -w 2 "$2" "$3" >/dev/null 2>&1; }
listen() {	# a TCP listener in the edge namespace (the kernel mirror) on <port>
	ip netns exec edge nc -l -k -p "$1" >/dev/null 2>&1 &
	PIDS+=($!)
}
relay_lost() {
	timeout 60 ip netns exec public turnutils_uclient -u edge -w edge-lab-password -e 198.18.10.2 \
		-r 3480 "$@" -m 1 -l 172 -c 198.18.20.1 2>&1 | sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1
}

require_netns firewall
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/dev/null || { echo "firewall tests: 0 passed, 1 failed"; exit 1; }
ctl turn enable >/dev/null
ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >/dev/null 2>&1 &
PIDS+=($!)
listen 22
listen 8080
listen 8081
sleep 0.5

echo "the guide: firewall b default allow; firewall b deny 22; firewall b enable"
tcp_open public 198.18.20.1 22 && ok "before: SSH port open on b" || bad "before: 22 on b closed"
out=$(ctl firewall b default allow && ctl firewall b deny 22 && ctl firewall b enable)
echo "$out" | grep -q "refuses new SSH" && ok "enable warns that SSH will be refused" || bad "no warning: $out"
tcp_open public 198.18.20.1 22 && bad "22 on b still open" || ok "22 on b is refused from the public side"
tcp_open internal 198.18.10.1 22 && ok "22 on a still answers the internal side" || bad "22 on a closed"
tcp_open public 198.18.20.1 8080 && ok "other ports on b still open" || bad "8080 on b closed"
timeout 5 ip netns exec public ping -c 2 -i 0.2 -W 1 198.18.20.1 >/dev/null && ok "ping still answered" || bad "ping blocked"
l=$(relay_lost -n 30)
[ "$l" = 0 ] && ok "TURN keeps relaying (30 packets, none lost)" || bad "TURN lost '$l'"
page=$(ctl firewall b)
echo "$page" | grep -qE "deny +22" && ok "status page lists the rule" || bad "status page: $page"
d=$(echo "$page" | sed -n 's/Dropped by the firewall : \([0-9]*\) packets/\1/p')
[ "${d:-0}" -ge 1 ] && ok "drops counted ($d)" || bad "drops: '$d'"
out=$(ctl firewall b deny 22x 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "'22x'" && ok "a bad rule is refused, naming '22x'" || bad "bad rule: $out"

echo "default deny with explicit allows"
ctl firewall b delete deny 22 >/dev/null
ctl firewall b default deny >/dev/null
ctl firewall b allow 8080/tcp >/dev/null
tcp_open public 198.18.20.1 8080 && ok "the allowed port answers" || bad "8080 refused"
tcp_open public 198.18.20.1 8081 && bad "8081 answered under default deny" || ok "another port is refused"
page=$(ctl firewall b)
echo "$page" | grep -q "TURN port 3478/udp        : BLOCKED" && ok "the status page says TURN is blocked" || bad "TURN port line: $(echo "$page" | grep TURN)"
ctl turn | grep -q "^Firewall b *: TURN port BLOCKED" && ok "the turn status page says so too" || bad "turn page: $(ctl turn | grep Firewall)"
ctl firewall b allow 3478/udp >/dev/null
ctl firewall b allow 49152-65535/udp >/dev/null
l=$(relay_lost -n 30)
[ "$l" = 0 ] && ok "with 3478/udp allowed, TURN relays again" || bad "TURN with allows lost '$l'"
ip netns exec public nc -l -p 9000 </dev/null >/tmp/edge-fw-reply.txt 2>&1 &
PIDS+=($!)
sleep 0.3
echo "from-the-appliance" | timeout 5 ip netns exec edge nc -q 1 -w 3 198.18.20.2 9000 >/dev/null 2>&1
sleep 0.3
grep -q from-the-appliance /tmp/edge-fw-reply.txt && ok "the appliance's own connection out gets its replies" || bad "outbound connection failed under default deny"

echo "a rule change while traffic flows"
( for i in $(seq 1 8); do ctl firewall b allow 9999/tcp >/dev/null; sleep 0.2; ctl firewall b delete allow 9999/tcp >/dev/null; sleep 0.2; done ) &
churn=$!
l=$(relay_lost -n 200 -z 10)
wait $churn
[ "$l" = 0 ] && ok "TURN relayed 200 packets across 16 rule changes, none lost" || bad "lost '$l' during changes"

echo "persistence"
"$LAB" restart >/dev/null
tcp_open public 198.18.20.1 8081 && bad "after restart 8081 answers" || ok "after a restart the rules apply before the first packet"
tcp_open public 198.18.20.1 8080 && ok "and the allowed port still answers" || bad "8080 after restart"
ctl firewall b disable >/dev/null
tcp_open public 198.18.20.1 8081 && ok "disable opens it again" || bad "disable did not"

finish firewall
