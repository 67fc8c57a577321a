# Sourced by test_webbridge.sh (one appliance, and two with WEBBRIDGE_TWO=1): guests in 9999
# see and hear each other, judged by headless Chromium's own getStats() (frames decoded rising,
# a picture that is not blank, audio samples rising): directly to the media port, and relayed
# through our TURN server; three guests of whom one leaves; a guest killed without leaving is
# gone from the roster within 40 s (consent, RFC 7675).
MEDIA_CLIENT=$ROOT/tests/integration/clients/browser_media.py
media() {
	timeout 300 ip netns exec public /usr/bin/python3 "$MEDIA_CLIENT" --url "https://$PUB_IP:445/" \
		--ca "$CERTS/lab-ca.pem" --meeting 9999 --timeout 150 "$@"
}
# wait_log_from <file> <line> <regex> <seconds>: the log has it after line <line> (bounded)
wait_log_from() {
	local i
	for i in $(seq 1 $(($4 * 10))); do
		tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -q -- "$3" && return 0
		sleep 0.1
	done
	return 1
}
# media_run <label> <json file> <client args...>: one browser_media.py run, judged
media_run() {
	local label=$1 out=$2; shift 2
	if media "$@" > "$out" 2> "$out.err"; then
		ok "$label ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join("%s decoded %s frames" % (g["name"], sum(g["framesDecoded"].values())) for g in d["guests"]))' "$out" 2>/dev/null))"
		return 0
	fi
	bad "$label: $(tail -1 "$out.err")"
	return 1
}

echo "== media: the callbridge's media port"
if [ -z "$TWO" ]; then
	MEDIA_IF=b MEDIA_IP=$PUB_IP	# one appliance: guests reach it directly too
else
	MEDIA_IF=a MEDIA_IP=$CORE_IP	# the core: guests reach it through the edge's TURN
fi
M0=$(wc -l < "$CLOG") E0=$(wc -l < "$LOG")
cctl_ok callbridge media "$MEDIA_IF:10000" >/dev/null && cctl callbridge restart > "$W/media-restart.out" 2>&1
wait_log_from "$CLOG" "$M0" "C2W connection for webbridge $INT_IP:6000 UP" 15 &&
	wait_log_from "$LOG" "$E0" "has 1 media port" 15 &&
	ok "callbridge media $MEDIA_IF:10000: the web bridge heard of it over C2W" ||
	bad "media port: $(tail -5 "$CLOG")"
page=$(cctl callbridge media)
grep -qx "Media ports               : $MEDIA_IP:10000" <<<"$page" && grep -q "^DTLS fingerprint          : sha-256 [0-9A-F:]\{95\}$" <<<"$page" &&
	ok "callbridge media: the port and the DTLS certificate's fingerprint" || bad "callbridge media page: $page"

if [ -z "$TWO" ]; then
	M0=$(wc -l < "$CLOG")
	media_run "two guests see and hear each other, directly to the media port" "$W/media-direct.json" --guests 2
	grep -q '"local": "host"' "$W/media-direct.json" && ok "direct: the browsers' selected candidate is a host candidate" ||
		bad "direct: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-direct.json" | head -2)"
	tail -n +"$((M0 + 1))" "$CLOG" > "$W/media-direct.log"
	grep -q 'media: leg [0-9a-f-]* ICE connected from' "$W/media-direct.log" &&
		grep -q 'media: leg [0-9a-f-]* DTLS done (SRTP_AEAD_AES_128_GCM)' "$W/media-direct.log" &&
		grep -q 'call [0-9]*: media connected' "$W/media-direct.log" &&
		ok "log: ICE connected, DTLS done with SRTP_AEAD_AES_128_GCM, media connected" ||
		bad "media log: $(grep media "$W/media-direct.log" | tail -5)"
fi

M0=$(wc -l < "$CLOG")
# in two appliances three guests here: the core's media port behind the edge's relay
RELAYED=$([ -n "$TWO" ] && echo 3 || echo 2)
media_run "$RELAYED guests see and hear each other relayed through our TURN over UDP" "$W/media-relay.json" --guests "$RELAYED" --relay &&
	{ grep -q '"relayProtocol": "udp"' "$W/media-relay.json" && ok "relayed: the browsers' selected candidate is a relay candidate over UDP" ||
		bad "relay: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-relay.json" | head -2)"; }

# TLS on 443: with TURN over UDP (3478, 443) and plain TCP (3478) closed by the edge's firewall,
# the browsers' only way is turns:...:443 (Chromium tries no TURN port below 1024 but 53, 80, 443)
{ ctl_ok firewall b deny 3478 && ctl_ok firewall b deny 443/udp && ctl_ok firewall b enable; } >/dev/null &&
	media_run "two guests see and hear each other relayed through our TURN over TLS on 443" "$W/media-tls.json" --guests 2 --relay &&
	{ grep -q '"relayProtocol": "tls"' "$W/media-tls.json" && ok "relayed: the selected candidate is a relay candidate over TLS" ||
		bad "TLS relay: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-tls.json" | head -2)"; }
{ ctl_ok firewall b disable && ctl_ok firewall b delete deny 3478 && ctl_ok firewall b delete deny 443/udp; } >/dev/null

if [ -z "$TWO" ]; then
	media_run "three guests; one leaves: the others stop receiving it within 15 s" "$W/media-three.json" --guests 3 --leave-one
	media_run "a guest killed without leaving is gone from the others' roster within 40 s" "$W/media-kill.json" --guests 2 --kill-one --gone-timeout 40
	# a stopped browser keeps its WebSocket: only consent can tell it is gone
	M0=$(wc -l < "$CLOG")
	media_run "a guest whose browser freezes (SIGSTOP) is gone from the others' roster within 40 s" "$W/media-freeze.json" --guests 2 --freeze-one --gone-timeout 40
	wait_log_from "$CLOG" "$M0" "ended: consent expired" 5 && ok "log: its leg ended by consent (no ICE check for 30 s)" ||
		bad "no consent line: $(grep 'media:' "$CLOG" | tail -3)"
fi
