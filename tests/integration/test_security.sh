#!/usr/bin/env bash
# Attacks on the appliance, each performed as an outsider would (issue 12): the TURN relay
# as a pivot into the internal network, one guest message breaking C2W for everyone,
# passcode guessing and slot exhaustion, the webadmin, the host's own traffic, logs, ARP and
# the control socket. Each attack must fail, and a legitimate guest must still join and relay.
#
# The lab runs as the guide deploys it: two appliances, the edge (TURN, webbridge3 on b:445,
# C2W on a:6000) and the core (callbridge, webadmin/REST API on 198.18.10.3:443), set up once
# here; then every tests/integration/security/*.sh is sourced in name order. Each leaves the
# appliances as it found them. Exit 77 where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
SUITE=security
PUB_IP=198.18.20.1 INT_IP=198.18.10.1 CORE_IP=198.18.10.3
CERTS=/run/edge-lab/certs LOG=/run/edge-lab/edged.log CLOG=/run/edge-lab/core.log
ADMIN_PW=edge-lab-admin-pw
TURN_SECRET=lab-guest-secret-0123456789
MEDIA_PORT=10000
W= PIDS=()
export TURN_SECRET MEDIA_PORT

require_netns $SUITE
for t in curl openssl turnutils_uclient turnutils_peer python3; do
	command -v $t >/dev/null || { echo "$SUITE tests: $t missing (scripts/setup.sh installs it)"; echo "$SUITE tests: 0 passed, 1 failed"; exit 1; }
done

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$LAB" down >/dev/null 2>&1 || true
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
W=$(mktemp -d /tmp/edge-security.XXXXXX)

cctl() { timeout 10 "$ROOT/build/edgectl" -s /run/edge-lab/core.sock "$@"; }
# api <method> <path> [curl args...]: the core's REST API from the internal network, as admin;
# prints the body, then a last line "HTTP <code>"
api() {
	local m=$1 p=$2; shift 2
	timeout 15 ip netns exec internal curl -sS --cacert "$CERTS/lab-ca.pem" -u "admin:$ADMIN_PW" \
		-X "$m" -w '\nHTTP %{http_code}\n' -D "$W/headers" "$@" "https://$CORE_IP:443/api/v1$p" 2>&1
}
code() { tail -1 | awk '{print $2}'; }
location() { tr -d '\r' < "$W/headers" | sed -n 's/^[Ll]ocation: //p'; }
# join <meetingId> <passcode> <name>: POST /api/join as the web app does, from the public side
join() {
	timeout 15 ip netns exec public curl -sS --cacert "$CERTS/lab-ca.pem" -H 'Content-Type: application/json' \
		-w '\nHTTP %{http_code}\n' -d "{\"meetingId\":\"$1\",\"passcode\":\"$2\",\"name\":\"$3\"}" \
		"https://$PUB_IP:445/api/join" 2>&1
}
# wait_log <file> <regex> <seconds>: until an appliance's log has it (bounded)
wait_log() { local i; for i in $(seq 1 $(($3 * 10))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# legit_guest <after what>: a guest from the internet still joins space 9999 (the join answer
# carries a JWT and TURN servers with credentials of its own)
legit_guest() {
	local out
	out=$(join 9999 "" "Legit")
	if [ "$(code <<<"$out")" = 200 ] && grep -q '"jwt"' <<<"$out"; then
		ok "a legitimate guest still joins 9999 ($1)"
		# its leg goes now, not after 60 s without a WebSocket (a cap counts legs per address)
		leg=$(sed -n 's/.*"participant": *"\([0-9a-f-]*\)".*/\1/p' <<<"$out")
		[ -n "$leg" ] && api DELETE "/callLegs/$leg" >/dev/null
	else
		bad "a legitimate guest cannot join 9999 $1: $(tail -3 <<<"$out")"
	fi
}
# restart_callbridge: `callbridge restart` on the core, then (bounded) until C2W is up again
restart_callbridge() {
	local c0 i; c0=$(wc -l < "$CLOG")
	cctl callbridge restart >/dev/null 2>&1
	for i in $(seq 1 150); do
		tail -n +$((c0 + 1)) "$CLOG" | grep -q "C2W connection for webbridge $INT_IP:6000 UP" && return 0
		sleep 0.1
	done
	return 1
}
ctl_ok() { local out; out=$(ctl "$@" 2>&1) || { bad "edgectl $*: $out"; return 1; }; echo "$out"; }
cctl_ok() { local out; out=$(cctl "$@" 2>&1) || { bad "edgectl (core) $*: $out"; return 1; }; echo "$out"; }

echo "== lab: edge and core, set up with the guide's commands"
EDGE_LAB_TWO=1 EDGE_LAB_QUIET=1 "$LAB" up >"$W/lab.out" 2>&1 || { cat "$W/lab.out"; echo "$SUITE tests: 0 passed, 1 failed"; exit 1; }
{
	cctl_ok user add admin admin "$ADMIN_PW" &&
	ctl_ok turn listen a b && ctl_ok turn tls 447 && ctl_ok turn certs lab.key lab-fullchain.pem &&
	ctl_ok turn shared-secret "$TURN_SECRET" && ctl_ok turn enable &&
	ctl_ok webbridge3 https certs lab.key lab-fullchain.pem && ctl_ok webbridge3 https listen b:445 &&
	ctl_ok webbridge3 c2w certs lab.key lab-fullchain.pem && ctl_ok webbridge3 c2w listen a:6000 &&
	ctl_ok webbridge3 c2w trust lab-ca.pem && ctl_ok webbridge3 enable &&
	cctl_ok webadmin listen a 443 && cctl_ok webadmin certs core.key core-fullchain.pem &&
	cctl_ok webadmin enable &&
	cctl_ok callbridge listen a && cctl_ok callbridge certs core.key core-fullchain.pem &&
	cctl_ok callbridge trust c2w lab-ca.pem && cctl_ok callbridge media a:$MEDIA_PORT
} > "$W/setup.out" && ok "edge and core configured" || bad "setup: $(tail -5 "$W/setup.out")"
out=$(api POST /coSpaces --data-urlencode name=9999 --data-urlencode uri=9999 --data-urlencode callId=9999)
SPACE=$(location); SPACE=${SPACE##*/}
out2=$(api POST /coSpaces --data-urlencode name=locked --data-urlencode callId=4242 --data-urlencode passcode=2468)
LOCKED=$(location); LOCKED=${LOCKED##*/}
out3=$(api POST /webBridges --data-urlencode "url=c2w://$INT_IP:6000")
WB=$(location); WB=${WB##*/}
# the TURN server the guests get: the edge's, with the shared secret it checks (no password)
out4=$(timeout 15 ip netns exec internal curl -sS --cacert "$CERTS/lab-ca.pem" -u "admin:$ADMIN_PW" -o /dev/null -w '%{http_code}' \
	--data-urlencode "turnServerAddress=$INT_IP" --data-urlencode "turnClientAddress=$PUB_IP" \
	--data-urlencode "turnSharedSecret=$TURN_SECRET" --data-urlencode "turnSharedSecretConfirm=$TURN_SECRET" \
	"https://$CORE_IP:443/general" 2>&1)
if [ "$(code <<<"$out")" = 200 ] && [ "$(code <<<"$out2")" = 200 ] && [ "$(code <<<"$out3")" = 200 ] && [ "$out4" = 303 ]; then
	ok "spaces 9999 and 4242, the web bridge, the guests' TURN server"
else
	bad "API set-up: $out / $out2 / $out3 / general $out4"
fi
export SPACE LOCKED WB
restart_callbridge && ok "C2W link up" || bad "no C2W link: $(tail -5 "$CLOG")"
legit_guest "at the start"

# SECURITY_ONLY=<prefix> runs only the files whose names start with it (e.g. 60)
for f in "$ROOT"/tests/integration/security/${SECURITY_ONLY:-}*.sh; do
	[ -f "$f" ] || continue
	# shellcheck source=/dev/null
	. "$f"
done

legit_guest "at the end"
finish $SUITE
