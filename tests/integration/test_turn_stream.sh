#!/usr/bin/env bash
# TURN over TCP and TLS in the lab (RFC 8656 stream framing, RFC 6062 TCP relays, connection
# limits and timeouts), driven by clients nobody here wrote where they exist: coturn's
# turnutils_uclient relaying to turnutils_peer, openssl s_client, aioice; and by
# clients/stream_abuse.py for what they cannot do (misbehaving streams, RFC 6062 to a TCP
# peer, a thousand idle connections). A test CA and an EC P-256 server certificate are made
# with the openssl CLI into the lab's cert_dir for `turn certs`. Exit 77 where namespaces
# cannot be made.
#
# TURN_STREAM_SERVER=coturn runs the same client-side checks against coturn's turnserver, in
# namespaces of its own (tsv-coturn, tsv-public, tsv-internal, with the lab's addresses), to
# validate this harness; the edgectl checks are skipped there, and what coturn 4.6 does not do
# is reported as "gap" instead of failing.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MODE=${TURN_STREAM_SERVER:-edged}
SRV=198.18.20.1 RELAY=198.18.10.1 PEER=198.18.10.2 TLS_PORT=447
HS=2	# turn timeouts handshake, seconds
IDLE=3	# turn timeouts idle, seconds (set for its own check only, at the end)
ABUSE=$ROOT/tests/integration/clients/stream_abuse.py
PY=/usr/bin/python3
W= PIDS=() gaps=0 T0=$(date +%s)
if [ "$MODE" = coturn ]; then
	PUB=tsv-public INT=tsv-internal
else
	PUB=public INT=internal CERTS=${SOCK%/*}/certs	# the lab's mgmt.cert_dir
fi

require_netns turn-stream
for t in turnutils_uclient turnutils_peer openssl; do
	command -v $t >/dev/null || { echo "turn-stream tests: $t missing (scripts/setup.sh installs it)"; echo "turn-stream tests: 0 passed, 1 failed"; exit 1; }
done

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ "$MODE" = coturn ]; then
		[ -f "$W/turnserver.pid" ] && kill "$(cat "$W/turnserver.pid")" 2>/dev/null
		sleep 0.3
		[ -f "$W/namespaces" ] && while read -r n; do ip netns del "$n" 2>/dev/null; done < "$W/namespaces"
	else
		rm -f "$CERTS/edge.key" "$CERTS/edge-fullchain.pem" "$CERTS/other-ca.pem"
		"$LAB" down >/dev/null 2>&1 || true
	fi
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
W=$(mktemp -d /tmp/edge-turn-stream.XXXXXX)
[ "$MODE" = coturn ] && CERTS=$W/certs && mkdir -p "$CERTS"
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096

edged() { [ "$MODE" = edged ]; }
# gap <what>: something coturn 4.6 does not do; a failure against edged
gap() { if edged; then bad "$*"; else gaps=$((gaps + 1)); printf '  gap   %s (coturn)\n' "$*"; fi; }
bg() { local f=$1; shift; "$@" >"$f" 2>&1 & PIDS+=($!); }
# wait_for <file> <regex> <seconds>: until a background client has said it (bounded)
wait_for() { local i; for i in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# stream_abuse.py from the public (clients) or internal (peers) namespace; commands, not
# functions, so that what bg starts is the process cleanup kills
ABUSE_PUB=(timeout 60 ip netns exec "$PUB" "$PY" "$ABUSE" --server $SRV --tls-port $TLS_PORT)
ABUSE_INT=(timeout 60 ip netns exec "$INT" "$PY" "$ABUSE")
abuse() { "${ABUSE_PUB[@]}" --ca "$W/ca.pem" "$@" 2>&1; }
abuse_int() { "${ABUSE_INT[@]}" "$@" 2>&1; }
uclient() { timeout 90 ip netns exec "$PUB" turnutils_uclient "$@" $SRV 2>&1; }
lost() { sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1; }
recvd() { sed -n 's/.*start_mclient: tot_send_msgs=[0-9]*, tot_recv_msgs=\([0-9]*\)$/\1/p' | tail -1; }
# relay <label> <messages x clients> <uclient args...>: none lost, all came back
relay() {
	local label=$1 want=$2 out l r; shift 2
	out=$(uclient "$@")
	l=$(echo "$out" | lost); r=$(echo "$out" | recvd)
	if [ "$l" = 0 ] && [ "${r:-0}" = "$want" ]; then ok "$label: none lost ($r echoed)"
	else bad "$label: lost '$l', echoed '$r' of $want: $(echo "$out" | grep -v '^[0-9]*: : \(start_mclient\|Average\|Total\)' | tail -2 | tr '\n' ' ')"; fi
}
tls() { echo Q | timeout 10 ip netns exec "$PUB" openssl s_client -connect $SRV:$TLS_PORT "$@" 2>&1; }
proto_of() { echo "$1" | sed -n 's/^Protocol version: //p' | head -1; }	# from s_client -brief
field() { ctl turn | sed -n "s/^$1 *: //p"; }
# stream_stat <line> <counter>: a figure of TURN's streams, from the registry (metric, lib.sh)
stream_stat() {
	case "$1/$2" in
	"Browser port/TLS") metric edge_turn_browser_port_connections_total protocol=tls -- turn ;;
	"Browser port/TURN over") metric edge_turn_browser_port_connections_total protocol=turn -- turn ;;
	"Stream closes/TLS errors") metric edge_turn_stream_closes_total reason=tls_error -- turn ;;
	"Stream closes/handshake timeouts")
		metric edge_turn_stream_closes_total reason=handshake_timeout -- turn ;;
	"Stream closes/idle timeouts") metric edge_turn_stream_closes_total reason=idle_timeout -- turn ;;
	"Stream drops/datagrams dropped")
		metric edge_turn_stream_datagrams_dropped_total reason=slow_reader -- turn ;;
	*) echo "stream_stat: '$1' '$2': no such figure" >&2 ;;
	esac
}
conns_line() { ctl turn stats | sed -n 's/^Stream connections *: \([0-9]*\) open (TCP \([0-9]*\), TLS \([0-9]*\)), \([0-9]*\) accepted, \([0-9]*\) refused.*/\1 \2 \3 \4 \5/p'; }

# ---- certificates: a test CA, an EC P-256 server certificate it signs, and another CA ----
mk_certs() {
	local ca
	for ca in ca other-ca; do
		openssl ecparam -name prime256v1 -genkey -noout -out "$W/$ca.key" || return 1
		openssl req -x509 -new -key "$W/$ca.key" -sha256 -days 2 -subj "/CN=edge lab $ca" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$W/$ca.pem" || return 1
	done
	(umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/edge.key") || return 1
	openssl req -new -key "$CERTS/edge.key" -subj "/CN=edge.lab.example" -out "$W/edge.csr" || return 1
	cat > "$W/edge.ext" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = IP:$SRV, DNS:edge.lab.example
	EOF
	openssl x509 -req -in "$W/edge.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 2 -sha256 -extfile "$W/edge.ext" -out "$W/edge.pem" 2>/dev/null || return 1
	cat "$W/edge.pem" "$W/ca.pem" > "$CERTS/edge-fullchain.pem"	# leaf, then CA
}

# ---- the server under test ----
coturn_up() {
	local n
	for n in tsv-coturn tsv-public tsv-internal; do
		ip netns add $n || { echo "namespace $n exists: remove it" >&2; return 1; }
		echo $n >> "$W/namespaces"
		ip -n $n link set lo up
	done
	ip link add tsv-b netns tsv-coturn type veth peer name pub0 netns tsv-public
	ip link add tsv-a netns tsv-coturn type veth peer name int0 netns tsv-internal
	ip -n tsv-coturn addr add $SRV/24 dev tsv-b && ip -n tsv-coturn link set tsv-b up
	ip -n tsv-coturn addr add $RELAY/24 dev tsv-a && ip -n tsv-coturn link set tsv-a up
	ip -n tsv-public addr add 198.18.20.2/24 dev pub0 && ip -n tsv-public link set pub0 up
	ip -n tsv-internal addr add $PEER/24 dev int0 && ip -n tsv-internal link set int0 up
	# --max-allocate-timeout: coturn's one timer for a connection without an allocation
	ip netns exec tsv-coturn turnserver -n --listening-ip=$SRV --relay-ip=$RELAY \
		--listening-port=3478 --tls-listening-port=$TLS_PORT --no-dtls \
		--cert="$CERTS/edge-fullchain.pem" --pkey="$CERTS/edge.key" \
		--lt-cred-mech --user=edge:edge-lab-password --realm=lab.example \
		--max-allocate-timeout=$HS --min-port=49152 --max-port=65535 --no-cli \
		--userdb="$W/turndb" --pidfile="$W/turnserver.pid" --log-file="$W/coturn.log" --simple-log \
		>/dev/null 2>&1 &
	echo $! > "$W/turnserver.pid"
	for n in $(seq 1 50); do
		ip netns exec tsv-coturn ss -ltn | grep -q ":$TLS_PORT " && return 0
		sleep 0.1
	done
	return 1
}

echo "setting up ($MODE)"
if edged; then
	"$LAB" down >/dev/null 2>&1 || true
	EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/dev/null || { echo "turn-stream tests: 0 passed, 1 failed"; exit 1; }
fi
mk_certs >"$W/certs.log" 2>&1 || { cat "$W/certs.log"; echo "turn-stream tests: 0 passed, 1 failed"; exit 1; }
if edged; then
	out=$(ctl turn certs edge.key edge-fullchain.pem 2>&1)
	echo "$out" | grep -q "SUCCESS: Key and certificate pair match" && ok "turn certs takes the key and full chain ($out)" || bad "turn certs: $out"
	cp "$W/other-ca.pem" "$CERTS/other-ca.pem"
	out=$(ctl turn certs edge.key other-ca.pem 2>&1); rc=$?
	if [ $rc != 0 ] && echo "$out" | grep -q "^error: " && [ "$(field "TLS cert")" = edge-fullchain.pem ]; then
		ok "turn certs refuses a certificate that is not the key's, and keeps the pair it had"
	else bad "mismatched turn certs: rc $rc, '$out', TLS cert now '$(field "TLS cert")'"; fi
	ctl turn tls $TLS_PORT >/dev/null || bad "turn tls $TLS_PORT refused"
	ctl turn timeouts handshake $HS >/dev/null || bad "turn timeouts handshake $HS refused"
	ctl turn enable >/dev/null || bad "turn enable refused"
	EDGED_PID=$(cat "${SOCK%/*}/edged.pid")
else
	coturn_up || { tail -5 "$W/coturn.log" 2>/dev/null; echo "turn-stream tests: 0 passed, 1 failed"; exit 1; }
fi
bg "$W/peer.log" timeout 600 ip netns exec "$INT" turnutils_peer -L $PEER -p 3480
bg "$W/echo.log" timeout 600 ip netns exec "$INT" "$PY" "$ABUSE" tcp-echo $PEER 3481 --seconds 590
wait_for "$W/echo.log" "^listening" 5 || bad "the TCP echo peer did not start: $(cat "$W/echo.log")"

if edged; then
	echo "status page"
	[ "$(field "TLS port")" = $TLS_PORT ] && ok "turn page: TLS port : $TLS_PORT" || bad "TLS port: '$(field "TLS port")'"
	[ "$(field "TLS cert")" = edge-fullchain.pem ] && ok "turn page: TLS cert : edge-fullchain.pem" || bad "TLS cert: '$(field "TLS cert")'"
	[ "$(field "TLS key")" = edge.key ] && ok "turn page: TLS key : edge.key" || bad "TLS key: '$(field "TLS key")'"
	lim=$(ctl turn stats | sed -n 's/^Stream limits *: //p')
	echo "$lim" | grep -q "handshake $HS s" && ok "turn stats: Stream limits says handshake $HS s ($lim)" || bad "Stream limits: '$lim'"
fi

echo "TLS as a client sees it (openssl s_client)"
# s_client's exit status says whether the handshake (and, with -verify_return_error, the
# verification) succeeded: with TLS 1.3 it prints a cipher even when verification failed
out=$(tls -CAfile "$W/ca.pem" -verify_return_error -verify_ip $SRV); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q "Verify return code: 0 (ok)"; then
	ok "the certificate verifies against the test CA for IP $SRV"
else bad "verify against the test CA: rc $rc, $(echo "$out" | grep -i -m2 "error\|verify")"; fi
out=$(tls -CAfile "$W/ca.pem" -verify_return_error -verify_hostname edge.lab.example); rc=$?
[ $rc = 0 ] && ok "...and for the name edge.lab.example" || bad "name check: rc $rc, $(echo "$out" | grep -i -m2 "error")"
n=$(tls -showcerts | grep -c "BEGIN CERTIFICATE")
[ "$n" = 2 ] && ok "the server sends the full chain (leaf and CA)" || bad "certificates sent: $n"
out=$(tls -CAfile "$W/other-ca.pem" -verify_return_error); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -q "certificate verify failed"; then
	ok "a client trusting another CA refuses the server"
else bad "another CA: rc $rc, $(echo "$out" | grep -m1 "Verify return")"; fi
alpn=$(tls -alpn stun.turn -CAfile "$W/ca.pem" | sed -n 's/^ALPN protocol: //p')
proto=$(proto_of "$(tls -brief -alpn stun.turn -CAfile "$W/ca.pem")")
[ "$alpn" = stun.turn ] && ok "ALPN stun.turn negotiated" || bad "ALPN: '$alpn'"
[ "$proto" = TLSv1.3 ] && ok "TLS 1.3 negotiated" || gap "TLS 1.3: got '$proto'"
# session resumption: a TLS 1.3 ticket (the client stays a second to receive it), used again
(sleep 1; echo Q) | timeout 10 ip netns exec "$PUB" openssl s_client -connect $SRV:$TLS_PORT \
	-CAfile "$W/ca.pem" -sess_out "$W/sess" >/dev/null 2>&1
out=$(tls -CAfile "$W/ca.pem" -sess_in "$W/sess")
if echo "$out" | grep -q "^Reused, TLSv1.3"; then
	ok "a TLS 1.3 session resumes from its ticket"
	if edged; then
		r=$(ctl turn stats | sed -n 's/^TLS handshakes *: [0-9]* (\([0-9]*\) resumed.*/\1/p')
		[ "${r:-0}" -ge 1 ] && ok "turn stats counts it ($r resumed)" || bad "resumed handshakes: '$r'"
	fi
else gap "TLS 1.3 session resumption: $(echo "$out" | grep -m1 -E '^(New|Reused),')"; fi
# the TLS 1.1 probe must be able to speak TLS 1.1 at all: first against openssl's own server
bg "$W/s_server.log" timeout 10 ip netns exec "$PUB" openssl s_server -accept 198.18.20.2:4433 -naccept 1 \
	-cert "$CERTS/edge-fullchain.pem" -key "$CERTS/edge.key" -cipher 'DEFAULT:@SECLEVEL=0' -quiet
sleep 0.3
c=$(echo Q | timeout 5 ip netns exec "$PUB" openssl s_client -connect 198.18.20.2:4433 -brief -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1); crc=$?
out=$(tls -brief -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'); rc=$?
if [ $crc = 0 ] && [ "$(proto_of "$c")" = TLSv1.1 ] && [ $rc != 0 ]; then
	ok "TLS 1.1 is refused (the same probe gets TLS 1.1 from openssl s_server)"
else bad "TLS 1.1: probe against s_server rc $crc '$(proto_of "$c")', against the server rc $rc: $(echo "$out" | grep -m1 error)"; fi

echo "relaying over TCP (turnutils_uclient -t)"
U="-u edge -w edge-lab-password -e $PEER -r 3480"
relay "TCP, channels, 2 clients x 40 x 172 bytes" 80 -t -c $U -n 40 -m 2 -l 172
relay "TCP, channels, 1200 bytes" 60 -t -c $U -n 30 -m 2 -l 1200
relay "TCP, Send/Data indications" 60 -t -c -s $U -n 30 -m 2 -l 172
relay "TCP, RTP and RTCP allocations (EVEN-PORT, RESERVATION-TOKEN)" 60 -t $U -n 30 -m 1 -l 172

echo "relaying over TLS (turnutils_uclient -t -S, verifying with -E)"
U="$U -p $TLS_PORT -E $W/ca.pem"
relay "TLS, channels, 2 clients x 40 x 172 bytes" 80 -t -S -c $U -n 40 -m 2 -l 172
relay "TLS, channels, 1200 bytes" 60 -t -S -c $U -n 30 -m 2 -l 1200
relay "TLS, Send/Data indications" 60 -t -S -c -s $U -n 30 -m 2 -l 172

echo "the browser port: UDP, TCP and TLS on 443 (turn browser-port; Chromium tries no other port below 1024)"
if edged; then
	B=443 UB="-u edge -w edge-lab-password -e $PEER -r 3480 -p 443"
	bp=$(field "Browser port")
	echo "$bp" | grep -q "^$B (UDP on every listen interface; TCP and TLS on .*b" && ok "turn page: Browser port : $bp" || bad "Browser port: '$bp'"
	relay "UDP 443, channels, 2 clients x 40 x 172 bytes" 80 -c $UB -n 40 -m 2 -l 172
	relay "UDP 443, Send/Data indications" 60 -c -s $UB -n 30 -m 2 -l 172
	m0=$(stream_stat "Browser port" "TLS"); c0=$(stream_stat "Browser port" "TURN over")
	relay "TCP 443, channels, 2 clients x 40 x 172 bytes" 80 -t -c $UB -n 40 -m 2 -l 172
	relay "TLS 443, channels, 2 clients x 40 x 172 bytes" 80 -t -S -c $UB -E "$W/ca.pem" -n 40 -m 2 -l 172
	relay "TLS 443, channels, 1200 bytes" 60 -t -S -c $UB -E "$W/ca.pem" -n 30 -m 2 -l 1200
	m1=$(stream_stat "Browser port" "TLS"); c1=$(stream_stat "Browser port" "TURN over")
	if [ "${m1:-0}" -ge $(( ${m0:-0} + 4 )) ] && [ "${c1:-0}" -ge $(( ${c0:-0} + 2 )) ]; then
		ok "turn stats tells them apart by the first byte: TLS $m0 -> $m1, TURN over TCP $c0 -> $c1"
	else bad "Browser port stats: TLS '$m0' -> '$m1', TCP '$c0' -> '$c1'"; fi
	out=$(echo Q | timeout 10 ip netns exec "$PUB" openssl s_client -connect $SRV:443 -CAfile "$W/ca.pem" \
		-verify_return_error -alpn stun.turn 2>&1); rc=$?
	[ $rc = 0 ] && echo "$out" | grep -q "^ALPN protocol: stun.turn" && ok "openssl s_client on 443: verified, ALPN stun.turn" || bad "s_client on 443: rc $rc $(echo "$out" | grep -m1 -i error)"
	out=$(ctl turn browser-port 447 2>&1); rc=$?
	[ $rc != 0 ] && echo "$out" | grep -q "'447'.*53, 80 and 443" && ok "turn browser-port 447 is refused, naming the word ($out)" || bad "browser-port 447: rc $rc '$out'"
	ctl turn browser-port none >/dev/null || bad "turn browser-port none refused"
	sleep 0.5
	if ! timeout 5 ip netns exec "$PUB" bash -c "exec 3<>/dev/tcp/$SRV/443" 2>/dev/null; then
		ok "with browser-port none nothing listens on TCP 443"
	else bad "browser-port none: TCP 443 still accepts"; fi
	ctl turn browser-port 443 >/dev/null || bad "turn browser-port 443 refused"
	sleep 0.5
	relay "TLS 443 again after browser-port 443" 20 -t -S -c $UB -E "$W/ca.pem" -n 20 -m 1 -l 172
else
	echo "  (skipped: coturn is not set up on 443 here)"
fi

if edged; then
	echo "certificate changes, with a TLS session in flight"
	serial_of() { tls -CAfile "$W/ca.pem" | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
	# mk_leaf <out.pem> <key>: another leaf for the key, signed by the test CA, as a full chain
	mk_leaf() {
		openssl req -new -key "$2" -subj "/CN=edge.lab.example" -out "$W/leaf.csr" &&
		openssl x509 -req -in "$W/leaf.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -days 2 -sha256 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$W/edge.ext" -out "$W/leaf.pem" &&
		cat "$W/leaf.pem" "$W/ca.pem" > "$1"
	} >/dev/null 2>&1
	s0=$(serial_of)
	# a session that lives through every change below: 500 messages, one every 10 ms
	bg "$W/long.log" uclient -t -S -c $U -n 500 -m 1 -l 172 -z 10
	long_pid=${PIDS[-1]}
	sleep 1
	(umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/edge2.key")
	mk_leaf "$CERTS/edge2-fullchain.pem" "$CERTS/edge2.key"
	out=$(ctl turn certs edge2.key edge2-fullchain.pem 2>&1)
	s1=$(serial_of)
	if echo "$out" | grep -q SUCCESS && [ -n "$s1" ] && [ "$s1" != "$s0" ]; then
		ok "turn certs with a new pair: the next handshake gets it (serial $s0 -> $s1)"
	else bad "new pair: '$out', serial $s0 -> '$s1'"; fi
	mk_leaf "$W/renewed.pem" "$CERTS/edge2.key"
	cp "$W/renewed.pem" "$CERTS/edge2-fullchain.pem"	# renewed in place, as by SFTP
	want=$(openssl x509 -in "$W/renewed.pem" -noout -serial | cut -d= -f2)
	for _ in $(seq 1 30); do [ "$(serial_of)" = "$want" ] && break; sleep 0.2; done
	s2=$(serial_of)
	[ "$s2" = "$want" ] && ok "the file renewed on disk is picked up by itself (serial $s2)" || bad "renewed file: serial '$s2', want $want"
	echo "not a certificate" > "$CERTS/edge2-fullchain.pem"
	for _ in $(seq 1 30); do ctl log 30 | grep -q "keeps the last good certificate" && break; sleep 0.2; done
	s3=$(serial_of)
	if [ "$s3" = "$s2" ] && ctl log 30 | grep -q "keeps the last good certificate"; then
		ok "a broken file on disk: logged, and TLS keeps the last good certificate (serial $s3)"
	else bad "broken file: serial '$s3' (was $s2), log: $(ctl log 30 | grep -m1 -i tls)"; fi
	cp "$W/renewed.pem" "$CERTS/edge2-fullchain.pem"
	for _ in $(seq 1 150); do kill -0 "$long_pid" 2>/dev/null || break; sleep 0.1; done
	l=$(lost < "$W/long.log"); r=$(recvd < "$W/long.log")
	if [ "$l" = 0 ] && [ "$r" = 500 ]; then
		ok "the session begun before the changes ran on through them: none lost ($r echoed)"
	else bad "session across the changes: lost '$l', echoed '$r' of 500: $(tail -2 "$W/long.log" | tr '\n' ' ')"; fi
	ctl turn certs edge.key edge-fullchain.pem >/dev/null || bad "back to the first pair: refused"
	rm -f "$CERTS/edge2.key" "$CERTS/edge2-fullchain.pem"
fi

echo "RFC 6062 TCP relays"
# uclient -T is client-to-client (it ignores -e/-r; turnutils_peer has no TCP mode): each
# client's peer is the other's relayed address, the appliance's own address, a peer edged
# refuses (403) unless allowed. 172-byte messages: uclient counts a TCP-relay message as
# received only if one read returns exactly -l bytes (TLS), or the rest of it follows within
# 128 non-blocking reads (TCP), so at 1200 bytes it counts as "lost" messages that arrive
# split or coalesced across TCP segments. The 1200-byte bulk check is stream_abuse.py's,
# which compares the bytes themselves.
edged && ctl turn peers allow $RELAY/32 >/dev/null
relay "uclient -T over TCP, 2 pairs x 30 x 172 bytes" 60 -T -u edge -w edge-lab-password -n 30 -m 2 -l 172
relay "uclient -T over TLS, 172 bytes" 60 -T -S -u edge -w edge-lab-password -p $TLS_PORT -n 30 -m 2 -l 172
edged && ctl turn peers delete allow $RELAY/32 >/dev/null
for how in "" --tls; do
	out=$(abuse tcp-relay $how --peer $PEER:3481 -n 200 --size 1200)
	if echo "$out" | grep -q "^tcp-relay sent 240000 received 240000 lost 0 intact"; then
		ok "Connect to a TCP peer${how:+ (control over TLS)}: 240000 bytes echoed, none lost"
	else bad "tcp-relay $how: $(echo "$out" | tail -2 | tr '\n' ' ')"; fi
done
rm -f "$W/accept.flag"
bg "$W/accept.log" "${ABUSE_PUB[@]}" tcp-accept --peer $PEER --flag "$W/accept.flag" --hold 30
if wait_for "$W/accept.log" "^relay " 10; then
	set -- $(grep "^relay " "$W/accept.log")
	out=$(abuse_int tcp-dial "$2" "$3" -n 200 --size 172)
	touch "$W/accept.flag"
	if echo "$out" | grep -q "^tcp-dial sent 34400 received 34400 lost 0 intact"; then
		ok "a peer connecting to the relayed address: ConnectionAttempt, ConnectionBind, 34400 bytes echoed"
	else bad "passive TCP relay: $out / $(tr '\n' ' ' < "$W/accept.log")"; fi
else bad "tcp-accept: $(cat "$W/accept.log")"; fi

echo "ICE over TLS: aioice"
out=$(timeout 30 ip netns exec "$PUB" "$PY" tests/integration/clients/aioice_tls.py "$W/ca.pem" $SRV $TLS_PORT 2>&1)
echo "$out" | grep -q "^relay $RELAY " && ok "aioice gathers a relayed candidate over TLS ($(echo "$out" | grep -m1 ^relay))" || bad "aioice TLS: $out"
out=$(timeout 30 ip netns exec "$PUB" "$PY" tests/integration/clients/aioice_tls.py "$W/other-ca.pem" $SRV $TLS_PORT 2>&1)
if ! echo "$out" | grep -q "^relay " && echo "$out" | grep -q "CERTIFICATE_VERIFY_FAILED"; then
	ok "aioice trusting another CA gets no candidate (certificate verify failed)"
else bad "aioice with another CA: $out"; fi

echo "stream framing"
for how in "" --tls; do
	out=$(abuse coalesce $how --peer $PEER:3480)
	for c in coalesced-stun coalesced-mixed split-stun split-channel; do
		case $c in
		coalesced-stun) what="two STUN requests in one write: both answered" ;;
		coalesced-mixed) what="ChannelData and a STUN request in one write: both come back" ;;
		split-stun) what="a STUN request in 1-byte writes: answered" ;;
		split-channel) what="ChannelData in 1-byte writes: echoed" ;;
		esac
		echo "$out" | grep -q "^$c ok" && ok "${how:+TLS: }$what" || bad "${how:+TLS: }$c: $(echo "$out" | grep -m1 "^$c\|^error")"
	done
	echo "$out" | grep -q "^integrity ok" && ok "${how:+TLS: }every success response to an authenticated request carries a valid MESSAGE-INTEGRITY" || bad "${how:+TLS: }integrity: $out"
done
bg "$W/trunc.log" "${ABUSE_PUB[@]}" truncated --then stall
sleep 0.5
out=$(abuse allocate)
ms=$(echo "$out" | sed -n 's/^ms //p')
if echo "$out" | grep -q "^relay $RELAY " && [ "${ms:-9999}" -lt 2000 ]; then ok "another client allocates meanwhile (${ms} ms)"; else bad "allocate beside a truncated frame: $out"; fi
wait_for "$W/trunc.log" "^truncated\|^error" 10
grep -q "^truncated silent" "$W/trunc.log" && ok "a truncated frame, then nothing: no answer" || bad "truncated, stall: $(cat "$W/trunc.log")"
out=$(abuse truncated --then close)
echo "$out" | grep -q "^truncated silent" && ok "a truncated frame, then the client's FIN: no answer" || bad "truncated, close: $out"

echo "TLS handshakes that go wrong"
edged && e0=$(stream_stat "Stream closes" "TLS errors")
out=$(abuse garbage --wait 10); t=$(echo "$out" | sed -n 's/^closed //p')
if [ -n "$t" ] && awk -v t="$t" -v h=$HS 'BEGIN {exit !(t <= h + 1)}'; then ok "garbage instead of a ClientHello: closed after $t s"
else bad "garbage on the TLS port: $out"; fi
if edged; then
	e1=$(stream_stat "Stream closes" "TLS errors")
	[ "${e1:-0}" -gt "${e0:-0}" ] && ok "...counted as a TLS error ($e0 -> $e1)" || bad "TLS errors: '$e0' -> '$e1'"
	h0=$(stream_stat "Stream closes" "handshake timeouts")
fi
out=$(abuse stall --wait 10); t=$(echo "$out" | sed -n 's/^closed //p')
if [ -n "$t" ] && awk -v t="$t" -v h=$HS 'BEGIN {exit !(t >= h - 0.5 && t <= h + 2)}'; then
	ok "half a ClientHello, then nothing: closed at the $HS s handshake timeout ($t s)"
else bad "stalled handshake: $(echo "$out" | tr '\n' ' ')"; fi
if edged; then
	h1=$(stream_stat "Stream closes" "handshake timeouts")
	[ "${h1:-0}" -gt "${h0:-0}" ] && ok "...counted as a handshake timeout ($h0 -> $h1)" || bad "handshake timeouts: '$h0' -> '$h1'"
fi

echo "a client that never reads, while its peer floods"
edged && d0=$(stream_stat "Stream drops" "datagrams dropped")
rm -f "$W/slow.flag"
bg "$W/slow.log" "${ABUSE_PUB[@]}" slow-reader --peer $PEER --flag "$W/slow.flag" --hold 40
if wait_for "$W/slow.log" "^relay " 10; then
	set -- $(grep "^relay " "$W/slow.log")
	bg "$W/flood.log" "${ABUSE_INT[@]}" flood "$2" "$3" --seconds 4 --size 1200 --pps 20000
	fpid=${PIDS[-1]}
	sleep 1.5
	out=$(abuse allocate --tls)
	ms=$(echo "$out" | sed -n 's/^ms //p')
	if echo "$out" | grep -q "^relay $RELAY " && [ "${ms:-9999}" -lt 3000 ]; then ok "another client allocates over TLS during the flood (${ms} ms)"
	else bad "allocate during the flood: $out"; fi
	if edged; then
		t0=$(date +%s%N); ctl status >/dev/null; rc=$?; ms=$((($(date +%s%N) - t0) / 1000000))
		[ $rc = 0 ] && [ $ms -lt 3000 ] && ok "edgectl status answers during the flood (${ms} ms)" || bad "edgectl status during the flood: rc $rc, $ms ms"
	fi
	wait "$fpid"
	touch "$W/slow.flag"
	wait_for "$W/slow.log" "^refresh\|^error" 15
	sent=$(sed -n 's/^sent //p' "$W/flood.log")
	set -- $(sed -n 's/^drained //p' "$W/slow.log")
	if [ "${sent:-0}" -ge 10000 ] && [ "${1:-0}" -ge 1 ] && [ "${3:-1}" = 0 ]; then
		ok "the slow reader's stream stays whole: $1 Data indications, all intact, in order ($sent sent at it)"
	else bad "slow reader: flood sent '$sent', drained '$*': $(grep -m1 "^stream\|^error" "$W/slow.log")"; fi
	grep -q "^refresh answered" "$W/slow.log" && ok "...and its Refresh is answered afterwards" || bad "slow reader's Refresh: $(grep -m1 "^refresh\|^error" "$W/slow.log")"
	if edged; then
		d1=$(stream_stat "Stream drops" "datagrams dropped")
		[ "${d1:-0}" -gt "${d0:-0}" ] && ok "turn stats counts datagrams dropped for slow readers ($d0 -> $d1)" || bad "slow-reader drops: '$d0' -> '$d1'"
	fi
else bad "slow reader: $(cat "$W/slow.log")"; fi

echo "a thousand idle connections"
edged && ctl turn connections per-address none >/dev/null
rm -f "$W/conns.flag" "$W/tls.flag"
bg "$W/conns.log" timeout 150 ip netns exec "$PUB" "$PY" "$ABUSE" --server $SRV conns 1000 --flag "$W/conns.flag" --hold 120
bg "$W/tlsconn.log" "${ABUSE_PUB[@]}" --ca "$W/ca.pem" probe --tls --flag "$W/tls.flag" --hold 50
if wait_for "$W/conns.log" "^answered" 40; then
	o=$(sed -n 's/^open //p' "$W/conns.log"); a=$(sed -n 's/^answered //p' "$W/conns.log")
	[ "$o" = 1000 ] && [ "$a" = 1000 ] && ok "1000 TCP connections accepted, each answers a Binding" || bad "1000 connections: open '$o', answered '$a'"
	out=$(abuse allocate)
	echo "$out" | grep -q "^relay $RELAY " && ok "another client still gets its allocation ($(echo "$out" | sed -n 's/^ms //p') ms)" || bad "allocate beside 1000 connections: $out"
	if edged; then
		wait_for "$W/tlsconn.log" "^probe" 5
		set -- $(conns_line)
		if [ "${2:-0}" -ge 1000 ] && [ "${3:-0}" -ge 1 ]; then ok "turn stats: $1 open (TCP $2, TLS $3), $4 accepted"
		else bad "Stream connections: '$(ctl turn stats | grep "^Stream connections")'"; fi
		r0=${5:-0}
		ctl turn connections total 500 >/dev/null || bad "turn connections total 500 refused"
		lim=$(ctl turn stats | sed -n 's/^Stream limits *: //p')
		echo "$lim" | grep -q "^500 total" && ok "Stream limits shows the new total ($lim)" || bad "Stream limits: '$lim'"
		out=$(abuse probe)
		set -- $(conns_line)
		if echo "$out" | grep -q "^probe \(closed\|silent\)" && [ "${5:-0}" -gt "$r0" ]; then
			ok "over the total limit a new connection is refused, and counted ($r0 -> $5 refused)"
		else bad "over the total: $out, refused $r0 -> '${5:-}'"; fi
		ctl turn connections total none >/dev/null
		out=$(abuse probe)
		echo "$out" | grep -q "^probe answered" && ok "with the limit lifted a new connection is served again" || bad "after 'total none': $out"
	fi
else bad "1000 connections: $(cat "$W/conns.log")"; fi
touch "$W/conns.flag" "$W/tls.flag"
wait_for "$W/conns.log" "^still" 10
if edged; then
	sleep 1
	ctl turn connections per-address 3 >/dev/null || bad "turn connections per-address 3 refused"
	rm -f "$W/conns.flag"
	bg "$W/conns3.log" timeout 60 ip netns exec "$PUB" "$PY" "$ABUSE" --server $SRV conns 3 --flag "$W/conns.flag" --hold 30
	wait_for "$W/conns3.log" "^answered" 10
	set -- $(conns_line); r0=${5:-0}
	out=$(abuse probe)
	set -- $(conns_line)
	if grep -q "^answered 3" "$W/conns3.log" && echo "$out" | grep -q "^probe \(closed\|silent\)" && [ "${5:-0}" -gt "$r0" ]; then
		ok "per-address limit 3: a 4th connection from the address is refused, and counted"
	else bad "per-address 3: $(tr '\n' ' ' < "$W/conns3.log") probe: $out, refused $r0 -> '${5:-}'"; fi
	touch "$W/conns.flag"
	ctl turn connections per-address none >/dev/null
fi

echo "idle timeout"
if edged; then
	ctl turn timeouts idle $IDLE >/dev/null || bad "turn timeouts idle $IDLE refused"
	i0=$(stream_stat "Stream closes" "idle timeouts")
	exp=$IDLE
else
	exp=$HS	# coturn: the same timer as for the handshake (--max-allocate-timeout)
fi
out=$(abuse idle --wait 12); t=$(echo "$out" | sed -n 's/^closed //p')
if echo "$out" | grep -q "^binding answered" && [ -n "$t" ] && awk -v t="$t" -v i=$exp 'BEGIN {exit !(t >= i - 1 && t <= i + 3)}'; then
	ok "a connection that only sent a Binding is closed after the idle timeout ($t s)"
else bad "idle: $(echo "$out" | tr '\n' ' ')"; fi
if edged; then
	i1=$(stream_stat "Stream closes" "idle timeouts")
	[ "${i1:-0}" -gt "${i0:-0}" ] && ok "...counted as an idle timeout ($i0 -> $i1)" || bad "idle timeouts: '$i0' -> '$i1'"
	ctl turn timeouts idle 600 >/dev/null
	ctl turn stats | grep "^Stream"
fi

if edged; then
	ctl status >/dev/null && ok "edged still answers edgectl status" || bad "edged is gone"
	# the lab is shared: if someone restarted it meanwhile, what ran above was not our edged
	[ "$(cat "${SOCK%/*}/edged.pid" 2>/dev/null)" = "$EDGED_PID" ] && ok "...the same edged all along (pid $EDGED_PID)" ||
		bad "edged was restarted during the test (pid $EDGED_PID -> $(cat "${SOCK%/*}/edged.pid" 2>/dev/null)): someone else used the lab; results above are not valid"
else
	kill -0 "$(cat "$W/turnserver.pid")" 2>/dev/null && ok "turnserver still running" || bad "turnserver is gone"
	echo "($gaps gaps: what coturn 4.6 does not do; edgectl checks skipped)"
fi
echo "($(( $(date +%s) - T0 )) s)"
finish turn-stream
