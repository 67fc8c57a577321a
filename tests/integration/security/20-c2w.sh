# Sourced by test_security.sh (issue 12, finding 2): one guest's message must not break the
# C2W link for everyone. A guest from the internet sends an offer of ~64 KiB (under the web
# bridge's limit) holding 16000 numbers 0.1, which jansson re-encodes as 0.10000000000000001:
# forwarded, it would be ~320 KiB on C2W, over the callbridge's 256 KiB. That guest must get an
# error, the link must stay up and keep answering, and others must still join. Then a message
# over 64 KiB in fragments: refused, and the guest's own socket carries on.
echo "== C2W: a guest's message that would not fit on C2W"
WS_GUEST=("$ROOT/tests/integration/clients/ws_guest.py" --url "https://$PUB_IP:445" --ca "$CERTS/lab-ca.pem")
c2w_guest() { timeout 60 ip netns exec public python3 "${WS_GUEST[@]}" "$@" 2>&1; }
c2w_link_up() {
	local s c
	s=$(api GET "/webBridges/$WB/status")
	c=$(ctl webbridge3 connections 2>&1)
	grep -q "success" <<<"$s" && grep -q "C2W links: 1 " <<<"$c"
}

log0=$(wc -l < "$LOG")
out=$(c2w_guest floats --numbers 16000)
sent=$(awk '$1 == "sent" {print $2}' <<<"$out")
if [ -n "$sent" ] && [ "$sent" -le 65536 ] && grep -q '^reply error messageTooLarge' <<<"$out"; then
	ok "a ${sent}-byte offer that grows past 256 KiB re-encoded: refused to that guest ($(grep '^reply' <<<"$out" | cut -c1-60))"
else
	bad "oversized C2W message: the guest got no error: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
fi
if grep -q '^roster [1-9]' <<<"$out"; then
	ok "the same guest's next message still goes through C2W (its roster came back)"
else
	bad "after the oversized message, the guest's mute brought no roster: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
fi
logged=
for _ in $(seq 1 50); do tail -n +"$((log0 + 1))" "$LOG" | grep -q "too large for C2W" && { logged=1; break; }; sleep 0.1; done
if [ -n "$logged" ] && ctl webbridge3 connections 2>&1 | grep -q "refused: [1-9][0-9]* too large for C2W"; then
	ok "the web bridge logged and counted the refusal"
else
	bad "no log line or count for the refused message: $(tail -2 "$LOG") / $(ctl webbridge3 connections 2>&1 | tail -1)"
fi
c2w_link_up && ok "the C2W link is still up (API status success, webbridge3 connections)" ||
	bad "the C2W link is not up after the oversized message: $(api GET "/webBridges/$WB/status" | head -3) / $(ctl webbridge3 connections 2>&1 | tail -1)"
t0=$(date +%s%N)
legit_guest "after an oversized C2W message"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 5000 ]; then
	ok "that join took $ms ms"
else
	bad "that join took $ms ms (a deaf link makes it wait 10 s for a 504)"
fi

# a small message with a float: the protocol has none
out=$(c2w_guest floats --numbers 3)
grep -q '^reply error badMessage' <<<"$out" && ok "numbers that are not integers are refused ($(grep '^reply' <<<"$out" | cut -c1-70))" ||
	bad "a message with floats was not refused: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"

# over 64 KiB in 8 fragments: the guest's socket drops it and reads the next message
out=$(c2w_guest big --size 70000 --fragments 8)
if grep -q '^reply error badMessage' <<<"$out" && grep -q '^roster [1-9]' <<<"$out"; then
	ok "a fragmented message over 64 KiB is refused and the socket reads the next one"
else
	bad "fragmented oversized message: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
fi
c2w_link_up && ok "the C2W link is still up at the end" || bad "the C2W link is down at the end"
legit_guest "after a fragmented oversized guest message"
