#!/usr/bin/env bash
# Side by side in the lab: edged and coturn's turnserver (Debian's), the same client
# (turnutils_uclient in the "public" namespace) and the same peer (turnutils_peer in
# "internal"), one after the other. coturn gets a namespace of its own, wired to the same
# two networks on 198.18.21.0/24 and 198.18.11.0/24. Reports, per payload size: packets
# relayed, loss, the relay process's CPU seconds and packets per CPU-second; and the
# allocation rate. Writes bench/results/turn_lab.md.
# Usage: bench/turn_lab.sh [clients] [messages] [interval-ms]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CLIENTS=${1:-20}
MSGS=${2:-500}
INTERVAL=${3:-5}	# ms between a client's messages
OUT=bench/results/turn_lab.md
SOCK=/run/edge-lab/edged.sock
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

PEER_PID= COTURN_PID=
cleanup() {
	[ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null || true
	[ -n "$COTURN_PID" ] && kill "$COTURN_PID" 2>/dev/null || true
	ip netns del cturn 2>/dev/null || true
	scripts/lab.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

scripts/lab.sh down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 scripts/lab.sh up >/dev/null
"$ROOT/build/edgectl" -s $SOCK turn enable >/dev/null

# coturn's namespace, on the same public and internal networks
. "$ROOT/bench/coturn_netns.sh"
coturn_netns_up
ip netns exec cturn turnserver -n --listening-ip=198.18.21.1 --relay-ip=198.18.11.1 \
	--lt-cred-mech --user=edge:edge-lab-password --realm=lab.example --no-tls --no-dtls \
	--no-cli --min-port=49152 --max-port=65535 --log-file=/dev/null >/dev/null 2>&1 &
COTURN_PID=$!
ip netns exec internal turnutils_peer -p 3480 >/dev/null 2>&1 &
PEER_PID=$!
sleep 1.5

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }	# utime + stime, in ticks
HZ=$(getconf CLK_TCK)

# run <server-ip> <peer-ip> <pid> <payload>: "sent recv lost% cpu_s"
run() {
	local c0 c1 out sent recv loss
	c0=$(cpu_of "$3")
	out=$(timeout 300 ip netns exec public turnutils_uclient -u edge -w edge-lab-password -e "$2" \
		-r 3480 -n "$MSGS" -m "$CLIENTS" -l "$4" -z "$INTERVAL" -c "$1" 2>&1)
	c1=$(cpu_of "$3")
	sent=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1/p' | tail -1)
	recv=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\2/p' | tail -1)
	loss=$(echo "$out" | sed -n 's/.*Total lost packets [0-9]* (\([0-9.]*\)%).*/\1/p' | tail -1)
	echo "${sent:-0} ${recv:-0} ${loss:-100} $(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz}')"
}

# allocs <server-ip> <pid>: seconds to set up CLIENTS*10 allocations (uclient's connect time)
allocs() {
	local out t
	out=$(timeout 300 ip netns exec public turnutils_uclient -u edge -w edge-lab-password -e "$2" \
		-r 3480 -n 1 -m $((CLIENTS * 5)) -c "$1" 2>&1)
	t=$(echo "$out" | sed -n 's/.*Total connect time is \([0-9]*\).*/\1/p' | tail -1)
	echo "${t:-?}"
}

EDGED_PID=$(cat /run/edge-lab/edged.pid)
# what each costs doing nothing for 5 s: edged's worker polls (with back-off), coturn sleeps
i0e=$(cpu_of "$EDGED_PID"); i0c=$(cpu_of "$COTURN_PID"); sleep 5
idle_e=$(awk -v d=$(( $(cpu_of "$EDGED_PID") - i0e )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz / 5}')
idle_c=$(awk -v d=$(( $(cpu_of "$COTURN_PID") - i0c )) -v hz="$HZ" 'BEGIN {printf "%.2f", d / hz / 5}')
echo "idle: edged ${idle_e} CPU-s per second, coturn ${idle_c}"
table="| server | payload | sent | received | loss % | relay CPU s | packets relayed per CPU-second |
|---|---|---|---|---|---|---|"
for size in 172 1200; do
	for srv in edged coturn; do
		if [ $srv = edged ]; then r=$(run 198.18.20.1 198.18.10.2 "$EDGED_PID" $size)
		else r=$(run 198.18.21.1 198.18.11.2 "$COTURN_PID" $size); fi
		set -- $r
		pps=$(awk -v s="$1" -v r="$2" -v c="$4" 'BEGIN { if (c > 0) printf "%.0f", (s + r) / c; else print "n/a" }')
		echo "$srv $size: sent $1 received $2 loss $3% cpu $4 s -> $pps relayed packets per CPU-second"
		table="$table
| $srv | $size | $1 | $2 | $3 | $4 | $pps |"
	done
done
ae=$(allocs 198.18.20.1 198.18.10.2)
ac=$(allocs 198.18.21.1 198.18.11.2)
echo "allocations: $((CLIENTS * 10)) (RTP+RTCP for $((CLIENTS * 5)) clients): edged ${ae}s, coturn ${ac}s (uclient's connect time)"

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
cat > "$OUT" <<MD
# TURN relay in the lab: edged beside coturn

- Machine: $cpu, $(nproc) cores, $(uname -r); coturn $(dpkg-query -W -f='${Version}' coturn)
- Date: $(date -u +%Y-%m-%d)
- Command: \`sudo bench/turn_lab.sh $CLIENTS $MSGS $INTERVAL\`

The same client (coturn's turnutils_uclient: $CLIENTS clients, $MSGS messages each, one every
$INTERVAL ms, channels) relays through each server in turn to the same turnutils_peer, which echoes;
"sent" and "received" count the client's messages both ways. CPU is the relay process's user
+ system time over the run (edged: its control thread and its one polling worker, which
backs off when idle; coturn: all its threads). Both servers run on the same 2-core machine as
the client and the peer, which compete for the same cores: the ratio is the figure to read,
and edged's data plane here runs on af_packet virtual ports, not on a NIC.

$table

Idle cost, measured first over 5 s: edged ${idle_e} CPU-seconds per second (its worker polls,
backing off to ${IDLE_US:-200} µs sleeps), coturn ${idle_c}. At low packet rates that idle polling
dominates edged's CPU figure; a poll-mode relay earns its keep at rates where coturn's per-packet
system calls add up.

Allocations: $((CLIENTS * 10)) allocations (uclient sets up RTP and RTCP for $((CLIENTS * 5))
clients, with the 401 round trip each): edged ${ae} s, coturn ${ac} s, as uclient reports its
connect time (whole seconds).
MD
echo "bench: wrote $OUT"
