#!/usr/bin/env bash
# TURN over TLS side by side in the lab: edged and coturn's turnserver (Debian's), the same
# certificate (a test CA's EC P-256 leaf, made here with the openssl CLI), the same clients in
# the "public" namespace and the same peer in "internal", one server after the other. coturn
# gets a namespace of its own on the same two networks (198.18.21.1 / 198.18.11.1), as in
# bench/turn_lab.sh. Measures:
#   - TLS handshakes: `openssl s_time -new` for STIME seconds, as each server negotiates by
#     default and with both held to TLS 1.2; handshakes per second (the client's count over its
#     wall time) and per CPU-second of the server process (utime+stime from /proc/<pid>/stat);
#   - relaying over TLS: turnutils_uclient -t -S (CLIENTS clients, MSGS messages each, one every
#     INTERVAL ms, channels) to turnutils_peer at 172- and 1200-byte payloads: packets relayed
#     per second while traffic flows, and per CPU-second of the server.
# Writes bench/results/turn_tls.md. A server whose TLS listener does not answer gets "n/a".
# Usage: bench/turn_tls_lab.sh [clients] [messages] [interval-ms] [s_time-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CLIENTS=${1:-10}
MSGS=${2:-2000}
INTERVAL=${3:-5}
STIME=${4:-10}
OUT=bench/results/turn_tls.md
SOCK=/run/edge-lab/edged.sock
CERTS=/run/edge-lab/certs
PORT=447
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
E() { timeout 10 "$ROOT/build/edgectl" -s $SOCK "$@"; }

PEER_PID= COTURN_PID= W=
cleanup() {
	[ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null || true
	[ -n "$COTURN_PID" ] && kill "$COTURN_PID" 2>/dev/null || true
	sleep 0.3
	ip netns del cturn 2>/dev/null || true
	rm -f "$CERTS/bench.key" "$CERTS/bench-fullchain.pem"
	scripts/lab.sh down >/dev/null 2>&1 || true
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
W=$(mktemp -d /tmp/edge-tls-bench.XXXXXX)

scripts/lab.sh down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 scripts/lab.sh up >/dev/null
mkdir -p "$CERTS"

# one certificate for both servers: a test CA, a P-256 leaf naming both addresses
openssl ecparam -name prime256v1 -genkey -noout -out "$W/ca.key"
openssl req -x509 -new -key "$W/ca.key" -sha256 -days 2 -subj "/CN=edge lab bench CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out "$W/ca.pem"
(umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/bench.key")
openssl req -new -key "$CERTS/bench.key" -subj "/CN=edge.lab.example" -out "$W/leaf.csr"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=serverAuth" "subjectAltName=IP:198.18.20.1,IP:198.18.21.1,DNS:edge.lab.example" > "$W/leaf.ext"
openssl x509 -req -in "$W/leaf.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
	-days 2 -sha256 -extfile "$W/leaf.ext" -out "$W/leaf.pem" 2>/dev/null
cat "$W/leaf.pem" "$W/ca.pem" > "$CERTS/bench-fullchain.pem"

edged_tls=yes
E turn certs bench.key bench-fullchain.pem >/dev/null || edged_tls="no (turn certs refused)"
E turn tls $PORT >/dev/null || edged_tls="no (turn tls refused)"
E turn enable >/dev/null

# coturn's namespace, on the same public and internal networks
. "$ROOT/bench/coturn_netns.sh"
coturn_netns_up
# no --no-tlsv1 --no-tlsv1_1: OpenSSL 3's default security level refuses TLS 1.0/1.1 anyway
# (tests/integration/test_turn_stream.sh checks it), and with them uclient -S, which tries
# TLS 1.0/1.1-only contexts at random, hangs against coturn
ip netns exec cturn turnserver -n --listening-ip=198.18.21.1 --relay-ip=198.18.11.1 \
	--listening-port=3478 --tls-listening-port=$PORT --no-dtls \
	--cert="$CERTS/bench-fullchain.pem" --pkey="$CERTS/bench.key" \
	--lt-cred-mech --user=edge:edge-lab-password --realm=lab.example --no-cli \
	--min-port=49152 --max-port=65535 --userdb="$W/turndb" --pidfile="$W/turnserver.pid" \
	--log-file=/dev/null >/dev/null 2>&1 &
COTURN_PID=$!
ip netns exec internal turnutils_peer -p 3480 >/dev/null 2>&1 &
PEER_PID=$!
for _ in $(seq 1 50); do ip netns exec cturn ss -ltn | grep -q ":$PORT " && break; sleep 0.1; done
sleep 0.5

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }	# utime + stime, in ticks
# the main thread's alone: edged's control plane (TLS, TURN, the stream layer); the rest of
# edged's CPU is its workers (the data plane, and the TAP exception path TCP takes)
cp_of() { awk '{print $14 + $15}' "/proc/$1/task/$1/stat"; }
HZ=$(getconf CLK_TCK)
now() { date +%s.%N; }
EDGED_PID=$(cat /run/edge-lab/edged.pid)

# what each server negotiates: "protocol cipher alpn" (-brief names the protocol; TLS 1.3's
# session block, which the long form takes it from, may come after s_client has quit)
negotiated() {
	local brief long
	brief=$(echo Q | timeout 10 ip netns exec public openssl s_client -connect "$1:$PORT" -alpn stun.turn \
		-CAfile "$W/ca.pem" -verify_return_error -brief 2>&1) || true
	long=$(echo Q | timeout 10 ip netns exec public openssl s_client -connect "$1:$PORT" -alpn stun.turn \
		-CAfile "$W/ca.pem" -verify_return_error 2>&1) || true
	echo "$(echo "$brief" | sed -n 's/^Protocol version: //p') $(echo "$brief" | sed -n 's/^Ciphersuite: //p') $(echo "$long" | sed -n 's/^ALPN protocol: //p')"
}

# handshakes <server-ip> <pid> [s_time option]: "handshakes wall_s cpu_s"
handshakes() {
	local c0 c1 t0 t1 out n m0 m1
	c0=$(cpu_of "$2"); m0=$(cp_of "$2"); t0=$(now)
	out=$(timeout $((STIME + 30)) ip netns exec public openssl s_time -connect "$1:$PORT" -new -time "$STIME" ${3:-} 2>&1) || true
	c1=$(cpu_of "$2"); m1=$(cp_of "$2"); t1=$(now)
	# "1234 connections in 1.33s; 840.60 connections/user sec, ..." (s_time's own "real
	# seconds" are whole ones: the wall time is taken here)
	n=$(echo "$out" | sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' | head -1)
	echo "${n:-0} $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') $(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}') $(awk -v d=$((m1 - m0)) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}')"
}

# run <server-ip> <peer-ip> <pid> <payload>: "sent recv loss% cpu_s rate"; rate: packets
# (both ways) a second while relaying, from uclient's once-a-second progress lines
# ("<s>: : start_mclient: msz=.., tot_send_msgs=.., tot_recv_msgs=..") from the first that
# shows traffic to the last that shows more, so that neither connecting and allocating nor
# uclient's wait for stragglers dilutes it
run() {
	local c0 c1 out sent recv loss rate m0 m1
	c0=$(cpu_of "$3"); m0=$(cp_of "$3")
	out=$(timeout 300 ip netns exec public turnutils_uclient -t -S -p $PORT -u edge -w edge-lab-password \
		-e "$2" -r 3480 -n "$MSGS" -m "$CLIENTS" -l "$4" -z "$INTERVAL" -c "$1" 2>&1) || true
	c1=$(cpu_of "$3"); m1=$(cp_of "$3")
	sent=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1/p' | tail -1)
	recv=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\2/p' | tail -1)
	loss=$(echo "$out" | sed -n 's/.*Total lost packets [0-9]* (\([0-9.]*\)%).*/\1/p' | tail -1)
	rate=$(echo "$out" | sed -n 's/^\([0-9]*\): : start_mclient: msz=[0-9]*, tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\),.*/\1 \2 \3/p' |
		awk '$2 + $3 > p1 { if (!n++) { t0 = $1; p0 = $2 + $3 } t1 = $1; p1 = $2 + $3 }
			END { if (t1 > t0) printf "%.0f", (p1 - p0) / (t1 - t0); else print "n/a" }')
	echo "${sent:-0} ${recv:-0} ${loss:-100} $(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}') ${rate:-n/a} $(awk -v d=$((m1 - m0)) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.0f", a / b; else print "n/a" }'; }

ip_of() { [ "$1" = edged ] && echo 198.18.20.1 || echo 198.18.21.1; }
peer_of() { [ "$1" = edged ] && echo 198.18.10.2 || echo 198.18.11.2; }
pid_of() { [ "$1" = edged ] && echo "$EDGED_PID" || echo "$COTURN_PID"; }

neg_e=$(negotiated 198.18.20.1); neg_c=$(negotiated 198.18.21.1)
echo "edged negotiates: ${neg_e:-nothing} (TLS set up: $edged_tls)"
echo "coturn negotiates: ${neg_c:-nothing}"

i0e=$(cpu_of "$EDGED_PID"); i0c=$(cpu_of "$COTURN_PID"); sleep 5
idle_e=$(awk -v d=$(( $(cpu_of "$EDGED_PID") - i0e )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz / 5}')
idle_c=$(awk -v d=$(( $(cpu_of "$COTURN_PID") - i0c )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz / 5}')
echo "idle: edged ${idle_e} CPU-s per second, coturn ${idle_c}"

declare -A PER PERM	# per CPU-second and per main-thread CPU-second, by "server variant"
hs_table="| server | protocol | handshakes | seconds | handshakes/s | server CPU s | of which main thread | handshakes per server CPU-second | per main-thread CPU-second |
|---|---|---|---|---|---|---|---|---|"
for variant in default -tls1_2; do
	for srv in edged coturn; do
		set -- $(handshakes "$(ip_of $srv)" "$(pid_of $srv)" "$([ $variant = default ] || echo $variant)")
		proto=$([ $variant = default ] && { [ $srv = edged ] && echo "${neg_e%% *}" || echo "${neg_c%% *}"; } || echo TLSv1.2)
		rate=$(ratio "$1" "$2"); per=$(ratio "$1" "$3"); perm=$(ratio "$1" "$4"); main=$4
		[ $srv = edged ] || { main=-; perm=-; }	# coturn's work is spread over its threads
		PER["$srv $variant"]=$per; PERM["$srv $variant"]=$perm
		echo "handshakes $srv $variant: $1 in $2 s -> $rate/s, server CPU $3 s (main thread $4) -> $per per CPU-second"
		hs_table="$hs_table
| $srv | ${proto:-n/a} | $1 | $2 | $rate | $3 | $main | $per | $perm |"
	done
done

relay_table="| server | payload | sent | received | loss % | packets relayed/s | server CPU s | of which main thread | packets relayed per server CPU-second | per main-thread CPU-second |
|---|---|---|---|---|---|---|---|---|---|"
for size in 172 1200; do
	for srv in edged coturn; do
		set -- $(run "$(ip_of $srv)" "$(peer_of $srv)" "$(pid_of $srv)" $size)
		pkts=$(( $1 + $2 ))
		per=$(ratio $pkts "$4"); perm=$(ratio $pkts "$6"); main=$6
		[ $srv = edged ] || { main=-; perm=-; }
		PER["$srv $size"]=$per; PERM["$srv $size"]=$perm
		echo "relay $srv $size: sent $1 received $2 loss $3%, $5 packets/s while relaying, cpu $4 s (main thread $6) -> $per per CPU-second"
		relay_table="$relay_table
| $srv | $size | $1 | $2 | $3 | $5 | $4 | $main | $per | $perm |"
	done
done

# where edged's worker spends its time while it relays over TLS: perf samples of that thread
# for 5 s under the same load (the top symbols, kernel ones marked [k])
profile="(perf not available)"
WORKER_TID=$(grep -l "^rte-worker" /proc/$EDGED_PID/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5 || true)
if command -v perf >/dev/null && [ -n "$WORKER_TID" ]; then
	timeout 120 ip netns exec public turnutils_uclient -t -S -p $PORT -u edge -w edge-lab-password \
		-e 198.18.10.2 -r 3480 -n "$MSGS" -m "$CLIENTS" -l 172 -z "$INTERVAL" -c 198.18.20.1 >/dev/null 2>&1 &
	UC=$!
	sleep 3
	if timeout 30 perf record -q -t "$WORKER_TID" -o "$W/perf.data" -- sleep 5 >/dev/null 2>&1; then
		profile=$(perf report -i "$W/perf.data" --no-children --sort symbol 2>/dev/null |
			awk '/^ *[0-9.]+%/ && n++ < 8 { $1 = $1; sub(/ - -$/, ""); print "- " $0 }' || true)
	fi
	wait "$UC" 2>/dev/null || true
fi
echo "worker profile:"; echo "$profile"

# the lab is shared: a restart by someone else meanwhile makes edged's figures meaningless
if [ "$(cat /run/edge-lab/edged.pid 2>/dev/null)" != "$EDGED_PID" ]; then
	echo "bench: edged was restarted during the run (someone else used the lab): not writing $OUT" >&2
	exit 1
fi
# edged / coturn, side by side in this run
x() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ratios="| edged / coturn | handshakes, default | handshakes, TLS 1.2 | relayed, 172 B | relayed, 1200 B |
|---|---|---|---|---|
| per server CPU-second | $(x "${PER[edged default]}" "${PER[coturn default]}") | $(x "${PER[edged -tls1_2]}" "${PER[coturn -tls1_2]}") | $(x "${PER[edged 172]}" "${PER[coturn 172]}") | $(x "${PER[edged 1200]}" "${PER[coturn 1200]}") |
| edged's main thread only | $(x "${PERM[edged default]}" "${PER[coturn default]}") | $(x "${PERM[edged -tls1_2]}" "${PER[coturn -tls1_2]}") | $(x "${PERM[edged 172]}" "${PER[coturn 172]}") | $(x "${PERM[edged 1200]}" "${PER[coturn 1200]}") |"
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
cat > "$OUT" <<MD
# TURN over TLS in the lab: edged beside coturn

- Machine: $cpu, $(nproc) cores, $(uname -r); coturn $(dpkg-query -W -f='${Version}' coturn), $(openssl version | cut -d' ' -f1-2)
- Date: $(date -u +%Y-%m-%d)
- Command: \`sudo bench/turn_tls_lab.sh $CLIENTS $MSGS $INTERVAL $STIME\`
- Certificate: one EC P-256 leaf signed by a test CA, the same file for both servers. Negotiated with \`openssl s_client -alpn stun.turn\`:
  edged \`${neg_e:-nothing}\`, coturn \`${neg_c:-nothing}\` (protocol, cipher, ALPN).
  edged's TLS set up: $edged_tls.

## In short

$ratios

Both relay every message (no loss) at the offered load. Per CPU-second coturn does more: edged's
TLS and TURN work (its main thread) costs about what coturn's whole process does, and on top
of it edged's worker carries every TCP segment between the af_packet port and the kernel's
TAP mirror, polling (with back-off) while it waits. That second part is the price of a
kernel-bypass data plane for traffic that the kernel terminates; on UDP, the fast path, the
data plane is the whole cost (\`bench/results/turn_lab.md\`, \`relay.md\`).

## TLS handshakes

\`openssl s_time -connect <server>:$PORT -new -time $STIME\` from the public namespace: full
handshakes, one at a time, no session reuse. "default" is what each server negotiates when
left to itself; the second pair holds both to TLS 1.2 (\`-tls1_2\`). Handshakes per second is the
client's count over its wall time: one client, sharing the machine's 2 cores with the server,
so a lower bound on what the server can do; the server's CPU per handshake is the figure to
compare.

$hs_table

## Relaying over TLS

turnutils_uclient \`-t -S -p $PORT\`: $CLIENTS clients over TLS, $MSGS messages each, one every
$INTERVAL ms, channels, to turnutils_peer in the internal namespace, which echoes; "sent" and
"received" count the client's messages both ways, and "packets relayed" is their sum. The
offered load is fixed (at most $(( CLIENTS * 1000 / INTERVAL )) messages a second each way, as fast as
uclient manages on a shared core), so packets relayed per second (both ways, from uclient's
once-a-second progress lines while traffic flows) mostly says whether a server kept up, and
packets per server CPU-second says what each costs (the CPU of the whole run, connecting,
TLS handshakes and allocating included).

$relay_table

"Of which main thread", for edged: its control plane, which holds TLS, the TURN server and
the stream layer; the rest of its CPU is its worker lcore, the data plane, through which every
TCP segment passes twice on its way to and from the kernel's TCP (the TAP exception path, on
af_packet ports here). coturn spreads its work over several threads, so no such split is
given for it.

Where edged's worker spends its time while relaying at 172 bytes (\`perf record -t\` on the
worker thread for 5 s, top symbols by samples; \`[k]\` is the kernel):

$profile

The kernel's own TCP work (\`tcp_ack\` and the like) runs inside
the worker's writes to the TAP mirror, so it is counted as edged's; the scheduler's switch
(\`finish_task_switch\`) and \`clock_nanosleep\` are the worker's back-off sleeps between
packets at this load: it wakes thousands of times a second to find one packet or none.
Cheaper waits (rx interrupts where the port has them) are the data plane's to take up.

Idle cost, measured first over 5 s: edged ${idle_e} CPU-seconds per second (its worker polls,
backing off), coturn ${idle_c}. That idle polling is inside edged's CPU figures above.

Both servers share the 2-core machine with the client and the peer; edged's data plane runs
on af_packet virtual ports here. Re-run with \`sudo bench/turn_tls_lab.sh [clients] [messages]
[interval-ms] [s_time-seconds]\` (defaults 10 2000 5 10).
MD
echo "bench: wrote $OUT"
