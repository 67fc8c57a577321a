# Sourced by test_security.sh. The TURN relay as a pivot into the internal network (issue 12,
# finding 1): a guest holding TURN credentials from the shared secret sends UDP, or opens an
# RFC 6062 TCP connection, to internal hosts (the core's webadmin 198.18.10.3:443, the
# internal host 198.18.10.2) or the appliance itself. Each attempt must be refused (403, or
# nothing relayed), and an operator's client must still relay where the lab allows it.
echo "== TURN: the relay is no way into the internal network"

pivot_stat() { ctl turn stats | sed -n "s/^$1 *: *\([0-9]*\).*/\1/p"; }
pivot_lost() {	# <uclient args...>: packets lost relaying 20 through the edge
	timeout 60 ip netns exec public turnutils_uclient "$@" -n 20 -m 1 -l 172 -c "$PUB_IP" 2>&1 |
		sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1
}
pivot_py() { timeout 30 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_pivot.py" --server "$PUB_IP" "$@" 2>&1; }
pivot_code() { sed -n "s/^$1 \(-\{0,1\}[0-9]*\)$/\1/p" | tail -1; }	# <request>: its code from turn_pivot.py
OP=(-u edge -w edge-lab-password)
GUEST=(-W "$TURN_SECRET" -u mallory)

ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >/dev/null 2>&1 &
PIVOT_PEER=$!
PIDS+=($PIVOT_PEER)
ip netns exec core turnutils_peer -L "$CORE_IP" -p 4443 >/dev/null 2>&1 &
PIVOT_CORE=$!
PIDS+=($PIVOT_CORE)
sleep 0.5

# the legitimate case first: the lab's operator credentials, with the lab's allow range
l=$(pivot_lost "${OP[@]}" -e 198.18.10.2 -r 3480)
[ "$l" = 0 ] && ok "operator credentials relay to 198.18.10.2:3480 (the lab allows 198.18.0.0/15): none of 20 lost" ||
	bad "operator relay to 198.18.10.2 with the lab's allow: lost '$l'"
page=$(ctl turn)
if grep -q "^Refused by default      : 198.18.0.0/15 (allowed)" <<<"$page" &&
	grep -q "^Refused by default      : 198.18.10.0/24 (subnet of a, not public) (allowed)" <<<"$page" &&
	grep -q "^Refused by default      : 10.0.0.0/8$" <<<"$page"; then
	ok "the turn page shows the default refusals and what the lab's allow opens of them"
else
	bad "turn page peer policy: $(grep -E '^(Never|Denied|Allowed|Refused)' <<<"$page" | tr '\n' ';')"
fi

# a guest (TURN REST API credentials from the shared secret): only the media targets
f0=$(pivot_stat "Forbidden peers"); g0=$(pivot_stat "Guest refusals"); n0=$(wc -l < "$LOG")
l=$(pivot_lost "${GUEST[@]}" -e 198.18.10.2 -r 3480)
g1=$(pivot_stat "Guest refusals")
if [ "$l" != 0 ] && [ "${g1:-0}" -gt "${g0:-0}" ]; then
	ok "a guest's UDP relay to the internal host 198.18.10.2:3480: nothing relayed (lost ${l:-all} of 20, guest refusals $g0 -> $g1)"
else
	bad "guest relay to 198.18.10.2: lost '$l', guest refusals '$g0' -> '$g1'"
fi
out=$(pivot_py --secret "$TURN_SECRET" --name mallory permission 198.18.10.2:3480)
[ "$(pivot_code permission <<<"$out")" = 403 ] && ok "a guest's CreatePermission for 198.18.10.2: 403" ||
	bad "guest CreatePermission 198.18.10.2: $(tr '\n' ' ' <<<"$out")"
out=$(pivot_py --secret "$TURN_SECRET" --name mallory channel "$CORE_IP:443")
[ "$(pivot_code channel <<<"$out")" = 403 ] && ok "a guest's ChannelBind to the core's $CORE_IP:443: 403" ||
	bad "guest ChannelBind $CORE_IP:443: $(tr '\n' ' ' <<<"$out")"
# a guest gets no TCP relay at all (RFC 6062 Allocate: 403), so no Connect anywhere
out=$(pivot_py --secret "$TURN_SECRET" --name mallory connect "$CORE_IP:443")
[ "$(pivot_code allocate <<<"$out")" = 403 ] && [ -z "$(pivot_code connect <<<"$out")" ] &&
	ok "a guest's RFC 6062 TCP allocation, to Connect to the webadmin $CORE_IP:443: 403" ||
	bad "guest Connect $CORE_IP:443: $(tr '\n' ' ' <<<"$out")"
out=$(pivot_py --secret "$TURN_SECRET" --name mallory connect "$INT_IP:6000")
[ "$(pivot_code allocate <<<"$out")" = 403 ] && ok "... and to Connect to the edge's own C2W port $INT_IP:6000: 403" ||
	bad "guest Connect $INT_IP:6000: $(tr '\n' ' ' <<<"$out")"
wait_log "$LOG" "guest \(permission\|channel bind\) from 198.18.20.2:[0-9]* refused: peer 198.18.10.2:348[01] is not a media target" 3 &&
	ok "the refusal is logged with the client and the peer" || bad "no log line for the refused guest: $(tail -n +$((n0 + 1)) "$LOG" | grep -i guest | tail -2)"
f1=$(pivot_stat "Forbidden peers")
# the relay, the permission and the channel (the TCP allocations were refused before any peer)
[ "${f1:-0}" -ge $((${f0:-0} + 3)) ] && ok "counted as forbidden peers ($f0 -> $f1)" || bad "forbidden peers '$f0' -> '$f1'"

# a media target's host: its media port only; Send indications to another port are dropped
media=$(ctl turn | sed -n 's/^Guest peers *: *//p')
if [ "$media" = "$CORE_IP:$MEDIA_PORT" ]; then
	d0=$(ctl turn stats | sed -n 's/^ *dropped TURN_PEER_PORT *: *\([0-9]*\).*/\1/p')
	l=$(pivot_lost -s "${GUEST[@]}" -e "$CORE_IP" -r 4443)
	d1=$(ctl turn stats | sed -n 's/^ *dropped TURN_PEER_PORT *: *\([0-9]*\).*/\1/p')
	if [ "$l" != 0 ] && [ "${d1:-0}" -gt "${d0:-0}" ]; then
		ok "a guest's Send indications to $CORE_IP:4443 (not the media port): dropped on the fast path ($((${d1:-0} - ${d0:-0})) as TURN_PEER_PORT)"
	else
		bad "guest Send to $CORE_IP:4443: lost '$l', TURN_PEER_PORT drops '$d0' -> '$d1'"
	fi
else
	bad "no media target announced (Guest peers: '$media'), the port check is not tried"
fi

# the operator: the default refusals hold once the lab's allow range is gone
ctl turn peers delete allow 198.18.0.0/15 >/dev/null
f0=$(pivot_stat "Forbidden peers")
l=$(pivot_lost "${OP[@]}" -e 198.18.10.2 -r 3480)
f1=$(pivot_stat "Forbidden peers")
[ "$l" != 0 ] && [ "${f1:-0}" -gt "${f0:-0}" ] &&
	ok "without the allow range, operator credentials get nothing to 198.18.10.2 (the internal subnet, refused by default)" ||
	bad "operator relay to 198.18.10.2 without allow: lost '$l', forbidden '$f0' -> '$f1'"
out=$(pivot_py --user edge --password edge-lab-password connect "$CORE_IP:443")
[ "$(pivot_code connect <<<"$out")" = 403 ] && ok "without it, an operator's Connect to $CORE_IP:443: 403" ||
	bad "operator Connect $CORE_IP:443 without allow: $(tr '\n' ' ' <<<"$out")"
ctl turn | grep -q "^Refused by default      : 198.18.0.0/15$" && ok "the turn page shows 198.18.0.0/15 refused" ||
	bad "turn page without allow: $(ctl turn | grep '^Refused' | tr '\n' ';')"
ctl turn peers allow 198.18.0.0/15 >/dev/null
# the appliance's own addresses stay refused, allow range or not
out=$(pivot_py --user edge --password edge-lab-password connect "$INT_IP:6000")
[ "$(pivot_code connect <<<"$out")" = 403 ] && ok "an operator's Connect to the edge's own $INT_IP:6000, with the allow range: 403" ||
	bad "operator Connect $INT_IP:6000: $(tr '\n' ' ' <<<"$out")"
out=$(pivot_py --user edge --password edge-lab-password permission "$PUB_IP:443")
[ "$(pivot_code permission <<<"$out")" = 403 ] && ok "an operator's CreatePermission for the edge's own $PUB_IP: 403" ||
	bad "operator CreatePermission $PUB_IP: $(tr '\n' ' ' <<<"$out")"
l=$(pivot_lost "${OP[@]}" -e 198.18.10.2 -r 3480)
[ "$l" = 0 ] && ok "the allow range back: operator credentials relay to 198.18.10.2 again" ||
	bad "operator relay after restoring the allow: lost '$l'"

kill "$PIVOT_PEER" "$PIVOT_CORE" 2>/dev/null
wait "$PIVOT_PEER" "$PIVOT_CORE" 2>/dev/null
legit_guest "after the pivot attempts"
