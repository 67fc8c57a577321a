#!/usr/bin/env bash
# edgeload, our TURN load generator, in the lab (issue 14): a few seconds at a low rate against
# edged and against coturn's turnserver beside it, its counts checked against each server's
# own (allocations made and freed, packets relayed), a wrong password reported as an
# authentication failure and not as loss, and its refusals. Exit 77 where namespaces cannot
# be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
EL=$ROOT/build/bench/edgeload/edgeload
COTURN_PID=
TMP=

require_netns edgeload
[ -x "$EL" ] || { echo "edgeload tests: $EL not built"; echo "edgeload tests: 0 passed, 1 failed"; exit 1; }
command -v turnserver >/dev/null || { echo "edgeload tests: coturn's turnserver missing (scripts/setup.sh installs it)"; echo "edgeload tests: 0 passed, 1 failed"; exit 1; }

cleanup() {
	[ -n "$COTURN_PID" ] && kill "$COTURN_PID" 2>/dev/null
	ip netns del cturn 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	"$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
TMP=$(mktemp -d /tmp/edgeload-test.XXXXXX)

# load <json> <args...>: edgeload through the kernel-socket back-end, clients in "public" and
# peers in "internal"; its summary and messages in $TMP/out, its exit status in $rc
load() {
	local json=$1
	shift
	timeout 40 "$EL" --backend sock --client-netns public --peer-netns internal --quiet \
		--json "$json" "$@" >"$TMP/out" 2>&1
	rc=$?
}
# j <json> <expression on d>: one figure from edgeload's JSON
j() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
relayed() { ctl turn stats | sed -n "s/Relayed $1 *: \([0-9]*\) packets.*/\1/p"; }

"$LAB" down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/dev/null || { echo "edgeload tests: 0 passed, 1 failed"; exit 1; }
ctl turn enable >/dev/null

echo "edged: 50 allocations, audio pattern, 3 s"
c0=$(stat_of "Allocations created"); d0=$(stat_of "Allocations deleted")
p0=$(relayed "client -> peer"); q0=$(relayed "peer -> client")
load "$TMP/edged.json" --server 198.18.20.1:3478 --user edge --password edge-lab-password \
	--clients 50 --client-ip 198.18.20.2 --peer-ip 198.18.10.2 --peer-port 41000 \
	--pattern audio --duration 3
c1=$(stat_of "Allocations created"); d1=$(stat_of "Allocations deleted"); live=$(stat_of "Allocations")
p1=$(relayed "client -> peer"); q1=$(relayed "peer -> client")
read -r aok rok sent rxp rxc echoed lost <<<"$(j "$TMP/edged.json" '"%d %d %d %d %d %d %d" % (d["allocate"]["ok"], d["release"]["ok"], d["traffic"]["sent"], d["traffic"]["rx_peer"], d["traffic"]["rx_client"], d["traffic"]["echoed"], d["traffic"]["lost"])')"
if [ "$rc" = 0 ] && [ "${aok:-}" = 50 ] && [ "${rok:-}" = 50 ]; then
	ok "edgeload: 50 allocated, 50 released (exit $rc)"
else
	bad "edgeload: exit $rc, allocated '${aok:-}', released '${rok:-}': $(tail -3 "$TMP/out")"
fi
if [ $((c1 - c0)) = 50 ] && [ $((d1 - d0)) = 50 ] && [ "$live" = 0 ]; then
	ok "edged: Allocations created +50 ($c0 -> $c1), deleted +50 ($d0 -> $d1), none left"
else
	bad "edged: Allocations created $c0 -> $c1, deleted $d0 -> $d1, left '$live'"
fi
c2p=$((p1 - p0)); p2c=$((q1 - q0))
# what reached the peers went through edged, and edged relayed nothing edgeload did not send
if [ "${sent:-0}" -gt 0 ] && [ "$c2p" -ge "${rxp:-0}" ] && [ "$c2p" -le "$sent" ] &&
	[ "$p2c" -ge "${rxc:-0}" ] && [ "$p2c" -le "${echoed:-0}" ]; then
	ok "relayed client -> peer: edged $c2p, edgeload sent $sent, peers got $rxp; peer -> client: peers echoed $echoed, edged $p2c, clients got $rxc"
else
	bad "relayed client -> peer: edged $c2p, edgeload sent '$sent', peers got '$rxp'; peer -> client: peers echoed '$echoed', edged $p2c, clients got '$rxc'"
fi
if [ "${lost:-x}" = 0 ] && [ "$sent" -ge 7000 ]; then ok "no loss ($sent round trips at 2500 pps)"; else bad "lost '$lost' of '$sent'"; fi

echo "coturn: the same, beside the lab"
. "$ROOT/bench/coturn_netns.sh"
ip netns del cturn 2>/dev/null
coturn_netns_up
ip netns exec cturn turnserver -n --listening-ip=198.18.21.1 --relay-ip=198.18.11.1 \
	--lt-cred-mech --user=edge:edge-lab-password --realm=lab.example --no-tls --no-dtls \
	--no-cli --min-port=49152 --max-port=65535 --log-file="$TMP/coturn.log" --simple-log -v \
	>/dev/null 2>&1 &
COTURN_PID=$!
for _ in $(seq 50); do grep -q "198.18.21.1:3478" "$TMP/coturn.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.3
load "$TMP/coturn.json" --server 198.18.21.1:3478 --user edge --password edge-lab-password \
	--clients 50 --client-ip 198.18.21.2 --peer-ip 198.18.11.2 --peer-port 42000 \
	--pattern audio --duration 3
read -r aok rok sent rxp rxc echoed lost <<<"$(j "$TMP/coturn.json" '"%d %d %d %d %d %d %d" % (d["allocate"]["ok"], d["release"]["ok"], d["traffic"]["sent"], d["traffic"]["rx_peer"], d["traffic"]["rx_client"], d["traffic"]["echoed"], d["traffic"]["lost"])')"
if [ "$rc" = 0 ] && [ "${aok:-}" = 50 ] && [ "${rok:-}" = 50 ]; then
	ok "edgeload: 50 allocated, 50 released on coturn (exit $rc)"
else
	bad "edgeload on coturn: exit $rc, allocated '${aok:-}', released '${rok:-}': $(tail -3 "$TMP/out")"
fi
# coturn closes a released allocation on its next timer tick, about a second later, and logs
# then what each relayed ("peer usage": sp packets sent to the peer, rp received from it)
for _ in $(seq 50); do [ "$(grep -c "closed (2nd stage)" "$TMP/coturn.log")" -ge 50 ] && break; sleep 0.1; done
na=$(grep -c "ALLOCATE processed, success" "$TMP/coturn.log")
nc=$(grep -c "closed (2nd stage)" "$TMP/coturn.log")
if [ "$na" = 50 ] && [ "$nc" = 50 ]; then
	ok "coturn's log: 50 allocations made, 50 closed"
else
	bad "coturn's log: '$na' allocations made, '$nc' closed"
fi
read -r ns c2p p2c <<<"$(sed -n 's/.*: peer usage: .*rp=\([0-9]*\),.*sp=\([0-9]*\),.*/\1 \2/p' "$TMP/coturn.log" |
	awk '{r += $1; s += $2; n++} END {print n + 0, s + 0, r + 0}')"
if [ "$ns" = 50 ] && [ "${sent:-0}" -gt 0 ] && [ "$c2p" -ge "${rxp:-0}" ] && [ "$c2p" -le "$sent" ] &&
	[ "$p2c" -ge "${rxc:-0}" ] && [ "$p2c" -le "${echoed:-0}" ]; then
	ok "relayed client -> peer: coturn $c2p, edgeload sent $sent, peers got $rxp; peer -> client: peers echoed $echoed, coturn $p2c, clients got $rxc"
else
	bad "relayed ($ns sessions' usage): client -> peer: coturn $c2p, edgeload sent '$sent', peers got '$rxp'; peer -> client: peers echoed '$echoed', coturn $p2c, clients got '$rxc'"
fi
if [ "${lost:-x}" = 0 ] && [ "$sent" -ge 7000 ]; then ok "no loss through coturn ($sent round trips at 2500 pps)"; else bad "lost '$lost' of '$sent' through coturn"; fi

echo "a wrong password"
f0=$(stat_of "Authentication failures")
load "$TMP/auth.json" --server 198.18.20.1:3478 --user edge --password not-the-password \
	--clients 5 --client-ip 198.18.20.2 --peer-ip 198.18.10.2 --peer-port 43000 \
	--pattern audio --duration 1 --phase-timeout 5
f1=$(stat_of "Authentication failures")
read -r af sent lost aok <<<"$(j "$TMP/auth.json" '"%d %d %d %d" % (d["auth_failed"], d["traffic"]["sent"], d["traffic"]["lost"], d["allocate"]["ok"])')"
if [ "$rc" = 3 ] && grep -q "authentication failed" "$TMP/out"; then
	ok "exit status 3, and it says: $(grep "authentication failed" "$TMP/out")"
else
	bad "wrong password: exit $rc, $(tail -3 "$TMP/out")"
fi
if [ "${af:-0}" = 5 ] && [ "${aok:-x}" = 0 ] && [ "${sent:-x}" = 0 ] && [ "${lost:-x}" = 0 ]; then
	ok "JSON: auth_failed 5, nothing allocated, sent 0, lost 0 (not loss)"
else
	bad "JSON: auth_failed '$af', allocated '$aok', sent '$sent', lost '$lost'"
fi
if [ $((f1 - f0)) -ge 5 ]; then ok "edged counted them: Authentication failures $f0 -> $f1"; else bad "edged's Authentication failures $f0 -> $f1"; fi

echo "TURN REST API (shared secret)"
ctl turn shared-secret lab-shared-secret-1 >/dev/null
# a REST credential is a guest's (issue 12): it allocates, but reaches no internal host, so
# its channels to the peers in "internal" are refused
c0=$(stat_of "Allocations created"); g0=$(stat_of "Guest refusals")
load "$TMP/rest.json" --server 198.18.20.1:3478 --user carol --secret lab-shared-secret-1 \
	--clients 10 --client-ip 198.18.20.2 --peer-ip 198.18.10.2 --peer-port 44000 \
	--pattern audio --duration 1 --phase-timeout 5
c1=$(stat_of "Allocations created"); g1=$(stat_of "Guest refusals"); live=$(stat_of "Allocations")
read -r aok bok rok <<<"$(j "$TMP/rest.json" '"%d %d %d" % (d["allocate"]["ok"], d["bind"]["ok"], d["release"]["ok"])')"
if [ "${aok:-}" = 10 ] && [ $((c1 - c0)) = 10 ]; then
	ok "--secret: 10 allocated (edged: Allocations created $c0 -> $c1)"
else
	bad "--secret: exit $rc, allocated '$aok', edged created $c0 -> $c1: $(tail -3 "$TMP/out")"
fi
# an allocation whose channel was refused is still the client's to release
if [ "${rok:-}" = 10 ] && [ "$live" = 0 ]; then
	ok "--secret: all 10 released, none left on edged"
else
	bad "--secret: released '$rok' of 10, edged still holds '$live' allocations"
fi
if [ "${bok:-x}" = 0 ] && [ $((g1 - g0)) -ge 10 ] && [ "$rc" = 1 ] &&
	grep -q "nothing relayed" "$TMP/out"; then
	ok "the guests' channels to an internal host refused (Guest refusals $g0 -> $g1), exit 1: nothing relayed"
else
	bad "guests' channels: bound '$bok', Guest refusals $g0 -> $g1, exit $rc"
fi
ctl turn shared-secret none >/dev/null

echo "refusals"
# refused before any socket: strace (where installed) sees none opened, and it is quick
trace=()
command -v strace >/dev/null && trace=(strace -f -qq -e trace=socket,sendto,sendmsg,sendmmsg -o "$TMP/strace")
: >"$TMP/strace"
t0=$(date +%s%N)
out=$(timeout 5 "${trace[@]}" "$EL" --server 8.8.8.8:3478 --password x 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 1 ] && echo "$out" | grep -q "8\.8\.8\.8" && [ "$ms" -lt 1000 ] &&
	! grep -qE "^[0-9]+ +(socket|send)" "$TMP/strace"; then
	ok "--server 8.8.8.8:3478 refused in $ms ms, ${trace:+no socket opened (strace), }saying: $out"
else
	bad "--server 8.8.8.8: exit $rc in $ms ms: $out; $(head -3 "$TMP/strace")"
fi
out=$(timeout 5 "$EL" --server 198.18.20.1:3478 --password x --size 10 2>&1)
rc=$?
if [ "$rc" = 1 ] && echo "$out" | grep -q -- "--size"; then ok "--size 10 refused: $out"; else bad "--size 10: exit $rc: $out"; fi

finish edgeload
