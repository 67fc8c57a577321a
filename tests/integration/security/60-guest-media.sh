# Sourced by test_security.sh. A guest's TURN credentials are its own (minted by the core's
# callbridge from the shared secret), and with them its relay reaches the media port the
# callbridge announced over C2W, and nothing once that port is withdrawn.
echo "== a guest's TURN credentials reach media, and only while it is announced"

# guest_creds <join answer>: "username credential" of its first TURN server
guest_creds() {
	python3 -c 'import json,sys
body = sys.stdin.read().rsplit("\nHTTP", 1)[0]
s = json.loads(body)["iceServers"][0]
print(s["username"], s["credential"])' 2>/dev/null
}
# media_peers: the "Guest peers" line of the turn page
media_peers() { ctl turn | sed -n 's/^Guest peers *: *//p'; }
wait_media() { local i; for i in $(seq 1 50); do [ "$(media_peers)" = "$1" ] && return 0; sleep 0.2; done; return 1; }
guest_relay() {	# <user> <password> <peer> <port>: echoes of 20 datagrams relayed through the edge
	timeout 30 ip netns exec public /usr/bin/python3 "$ROOT/tests/integration/clients/aioice_turn_echo.py" \
		"$PUB_IP" "$1" "$2" "$3" "$4" 20 > "$W/relay.out" 2>&1
	sed -n 's/^sent [0-9]* echoed \([0-9]*\).*/\1/p' "$W/relay.out"
}

out=$(join 9999 "" Gina)
read -r G_USER G_PW <<<"$(guest_creds <<<"$out")"
if [[ "$G_USER" =~ ^[0-9]+:guest[0-9]+$ ]] && [ -n "$G_PW" ] && ! grep -q "edge-lab-password" <<<"$out"; then
	ok "the join answer carries the guest's own TURN credentials ($G_USER)"
else
	bad "guest TURN credentials: user '$G_USER' in $(tail -c 400 <<<"$out")"
fi
wait_media "$CORE_IP:$MEDIA_PORT" && ok "the edge's TURN server learnt the core's media port over C2W ($CORE_IP:$MEDIA_PORT)" ||
	bad "turn page's guest peers: '$(media_peers)'"

# the media port is the core's media server: what is neither STUN, DTLS nor RTP it counts and
# drops, so the count shows the guest's datagrams arrived; the next port stands for any other
# service of the core, an echo that must never answer
garbage() { cctl callbridge media | sed -n 's/^Not STUN\/DTLS\/RTP *: *//p'; }
ip netns exec core turnutils_peer -L "$CORE_IP" -p $((MEDIA_PORT + 1)) >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
g0=$(garbage)
e=$(guest_relay "$G_USER" "$G_PW" "$CORE_IP" "$MEDIA_PORT")
g1=$(garbage)
[ -n "$g0" ] && [ "$((g1 - g0))" -ge 20 ] && [ "$e" = 0 ] &&
	ok "aioice relays a guest's datagrams to the core's media port: 20 arrived (counted, not answered)" ||
	bad "guest relay to the media port: counted $g0 -> $g1, echoed '$e': $(tail -3 "$W/relay.out")"
e=$(guest_relay "$G_USER" "$G_PW" "$CORE_IP" $((MEDIA_PORT + 1)))
[ "$e" = 0 ] && ok "... but not to the next port of the same host (0 echoed)" || bad "guest relayed to $CORE_IP:$((MEDIA_PORT + 1)): '$e' $(tail -3 "$W/relay.out")"
g0=$(garbage)
e=$(guest_relay "$G_USER" "wrong-$G_PW" "$CORE_IP" "$MEDIA_PORT")
g1=$(garbage)
[ "$e" = 0 ] && [ "$g1" = "$g0" ] && ok "a forged guest credential relays nothing" || bad "a forged guest credential relayed: '$e', counted $g0 -> $g1 $(tail -3 "$W/relay.out")"

# the callbridge withdraws its media port: the guest's relay reaches nothing any more
cctl callbridge media none >/dev/null; restart_callbridge
wait_media "none" && ok "with no media port announced, the guests' peers are none" || bad "guest peers after withdrawal: '$(media_peers)'"
ip netns exec core turnutils_peer -L "$CORE_IP" -p "$MEDIA_PORT" >/dev/null 2>&1 &	# free now
PIDS+=($!)
sleep 0.5
e=$(guest_relay "$G_USER" "$G_PW" "$CORE_IP" "$MEDIA_PORT")
[ "$e" = 0 ] && ok "the guest's relay to the withdrawn port relays nothing (an echo there stays silent)" || bad "relayed to a withdrawn media port: '$e'"
kill "${PIDS[-1]}" 2>/dev/null; wait "${PIDS[-1]}" 2>/dev/null
cctl callbridge media "a:$MEDIA_PORT" >/dev/null; restart_callbridge
wait_media "$CORE_IP:$MEDIA_PORT" && ok "announced again after the callbridge restart" || bad "guest peers after restore: '$(media_peers)'"
legit_guest "after the media port came and went"
