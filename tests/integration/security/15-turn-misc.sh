# Sourced by test_security.sh. The TURN server as a reflector and its EVEN-PORT reservations
# (issue 12, finding 5 and two Low ones): a flood of unauthenticated 20-byte requests from
# one address gets back fewer bytes than it sent; 70 reservations asked in a row lose none
# (the 65th and later are refused, none overwritten); a token is good once, for its user only.
echo "== TURN: challenge reflection, EVEN-PORT reservations"

turn_stat() { ctl turn stats | sed -n "s/^$1 *: *\([0-9]*\).*/\1/p"; }
resv_held() { ctl turn stats | sed -n 's/^Reservations *: *\([0-9]*\) held.*/\1/p'; }
resv_client() { timeout 90 ip netns exec public python3 "$ROOT/tests/integration/clients/turn_resv.py" "$@" 2>&1; }

# (a) 1000 unauthenticated Allocate requests (20 bytes each) in one second from one socket
drop0=$(turn_stat "Challenges dropped (rate)")
out=$(resv_client flood "$PUB_IP" --count 1000 --seconds 1)
drop1=$(turn_stat "Challenges dropped (rate)")
read -r _ sent _ _ answered n_ans _ largest <<<"$out"
if [ -n "$sent" ] && [ "${sent:-0}" -gt 0 ] && [ "$answered" -le "$sent" ] && [ "$n_ans" -ge 1 ]; then
	ok "1000 unauthenticated requests ($sent bytes) got $n_ans answers ($answered bytes, $(awk -v a="$answered" -v s="$sent" 'BEGIN{printf "%.2f", a/s}')x), each at most $largest bytes"
else
	bad "challenge reflection: $out"
fi
[ -n "$largest" ] && [ "$largest" -le 80 ] && ok "a challenge is at most 80 bytes (4x the request; it was 116)" ||
	bad "largest challenge: '$largest' bytes"
if [ -n "$drop1" ] && [ "$drop1" -gt "${drop0:-0}" ]; then
	ok "the challenges over the rate were dropped and counted ($((drop1 - ${drop0:-0})))"
else
	bad "Challenges dropped (rate): '$drop0' -> '$drop1'"
fi
# right after, from the same address: an operator's client still relays
ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
l=$(timeout 60 ip netns exec public turnutils_uclient -u edge -w edge-lab-password -e 198.18.10.2 -r 3480 \
	-n 20 -m 1 -l 172 -c "$PUB_IP" 2>&1 | sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1)
[ "$l" = 0 ] && ok "right after the flood, turnutils_uclient relays: none of 20 lost" ||
	bad "turnutils_uclient after the flood: lost '$l'"

# (b) EVEN-PORT R=1 seventy times: 64 reservations, then 508, none overwritten; a second
# address in the public network for "another client"
OTHER_IP=198.18.20.3
ip -n public addr add "$OTHER_IP/24" dev pub0 2>/dev/null
held0=$(resv_held)
exp0=$(ctl turn stats | sed -n 's/^Reservations *:.* \([0-9]*\) expired.*/\1/p')
out=$(resv_client resv "$PUB_IP" --user edge --password edge-lab-password --count 70 --ip 198.18.20.2 \
	--other-ip "$OTHER_IP" --secret "$TURN_SECRET")
field() { awk -v k="$1" '$1 == k {print $'"${2:-2}"'}' <<<"$out"; }
want=$((64 - ${held0:-0}))
if [ "$(field allocated)" = "$want" ] && [ "$(field allocated 4)" = $((70 - want)) ] && [ "$(field order)" = ok ]; then
	ok "70 EVEN-PORT R=1 requests: $want reserved, the other $((70 - want)) refused with 508 (none overwritten)"
else
	bad "EVEN-PORT reservations: $(tr '\n' ';' <<<"$out")"
fi
[ "$(field tokens)" = "$want" ] && [ "$(field tokens 4)" = "$want" ] && ok "every token distinct ($want)" ||
	bad "tokens: $(field tokens) $(field tokens 4)"
[ "$(field other-user)" = 508 ] && ok "another user's Allocate from another address with the first token: 508" ||
	bad "a token used by another user: '$(field other-user)'"
if [ "$(field same-user-other-address)" = 0 ] && [ "$(field same-user-other-address 4)" = "$(field same-user-other-address 6)" ]; then
	ok "its own user redeems it from another address (RFC 8656 7.2: any 5-tuple), the reserved port"
else
	bad "the token's own user: $(grep same-user <<<"$out")"
fi
[ "$(field again)" = 508 ] && ok "a token is good once (508 the second time)" || bad "token reused: '$(field again)'"
if [ "$(field last)" = 0 ] && [ "$(field last 4)" = "$(field last 6)" ]; then
	ok "the last token still names its own port"
else
	bad "the last token: $(grep '^last' <<<"$out")"
fi
ip -n public addr del "$OTHER_IP/24" dev pub0 2>/dev/null
# the rest expire after 30 s and hand their ports back
for i in $(seq 1 70); do [ "$(resv_held)" = 0 ] && break; sleep 0.5; done
exp1=$(ctl turn stats | sed -n 's/^Reservations *:.* \([0-9]*\) expired.*/\1/p')
if [ "$(resv_held)" = 0 ] && [ "$((exp1 - ${exp0:-0}))" -ge $((want - 2)) ]; then
	ok "the unused reservations expired within 35 s ($((exp1 - ${exp0:-0})) handed back)"
else
	bad "reservations held after 35 s: $(ctl turn stats | grep Reservations)"
fi
[ "$(field deleted)" = "$(field deleted 4)" ] && ok "the test's allocations deleted ($(field deleted))" ||
	bad "cleanup: $(grep deleted <<<"$out")"
