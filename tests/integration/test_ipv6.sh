#!/usr/bin/env bash
# IPv6 in the lab (issue 18, its first part): the interfaces' IPv6 addresses (config/lab.conf:
# a 2001:db8:10::1/64, b 2001:db8:20::1/64), answered by the data plane itself — Neighbour
# Discovery and ICMPv6 echo, on the global and the link-local address — as the hosts in the
# namespaces see them with their own kernel's ping -6 and neighbour table; `ipv6` changes
# applied live, persisted and refused with the bad word named; what the appliance does not
# serve over IPv6 yet (TURN, TCP) dropped and counted under its reason, never passed on.
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

echo "Neighbour Discovery and ping -6, answered by the data plane"
mac_b=$(ctl iface b | awk '/MAC address/ {print tolower($4)}')
mac_a=$(ctl iface a | awk '/MAC address/ {print tolower($4)}')
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
check "the new address answers at once" in_pub ping -6 -c 2 -i 0.2 -W 2 2001:db8:20::5
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
check "the addresses survive a restart" sh -c "'$LAB' restart >/dev/null 2>&1 && ip netns exec public ping -6 -c 2 -i 0.2 -W 2 2001:db8:20::1"

echo "what is not served over IPv6 yet: dropped and counted, never passed on"
n0=$(drops b IP6_NO_SERVICE)
in_pub sh -c 'for i in 1 2 3; do echo x | nc -6 -u -w 1 2001:db8:20::1 3478; done' >/dev/null 2>&1
in_pub nc -6 -z -w 1 2001:db8:20::1 22 >/dev/null 2>&1
n1=$(drops b IP6_NO_SERVICE)
[ "$((n1 - n0))" -ge 4 ] && ok "UDP 3478 and TCP 22 over IPv6: $((n1 - n0)) dropped as IP6_NO_SERVICE" ||
	bad "IP6_NO_SERVICE $n0 -> $n1"
ctl status >/dev/null && ok "edged still answers" || bad "edged is gone"

finish ipv6
