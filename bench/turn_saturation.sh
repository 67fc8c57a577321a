#!/usr/bin/env bash
# edged beside coturn at saturation, in one run (issue 14). Each server's relay has CPU 1 to
# itself; edgeload, the load generator, runs on CPU 0:
#   edged   the performance lab (bench/perf_lab.sh): its ports are memif, edgeload drives them
#           with its DPDK back-end through shared memory; worker on CPU 1, control plane on CPU 0
#   coturn  Debian's turnserver with one relay thread, every thread pinned to CPU 1, in network
#           namespace sat-co; edgeload drives it with its kernel-socket back-end from namespace
#           sat-ld over two veth pairs (clients 198.18.121.0/24, peers 198.18.111.0/24)
# For each server, payload size and allocation count:
#   saturation    --pattern max: relayed packets per second (client->peer counted at the peers,
#                 peer->client at the clients: echo peers), and per CPU-second of the server
#                 (all its threads, over the traffic phase)
#   no loss       the highest --rate losing at most 1 packet in 10 000, by bisection
#   latency       round-trip percentiles at half of that server's own no-loss rate
# and each server's Allocate rate (401 round included) and idle cost. Writes the runs' JSON and
# plots to bench/results/turn_saturation/ and the summary to bench/results/turn_saturation.md.
# Usage: sudo bench/turn_saturation.sh [seconds per run (5)] [big allocation count (50000)]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DUR=${1:-5}
BIG=${2:-50000}
OUT=bench/results/turn_saturation
MD=bench/results/turn_saturation.md
EL=$ROOT/build/bench/edgeload/edgeload
CTL=$ROOT/build/edgectl
PY=/usr/bin/python3
CLIENTS=198.18.64.1/4096	# client addresses: a challenge (401) is limited per source address
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$EL" ] || { echo "build first: $EL is missing" >&2; exit 1; }

COTURN_PID=
cleanup() {
	[ -n "$COTURN_PID" ] && kill "$COTURN_PID" 2>/dev/null || true
	ip netns del sat-co 2>/dev/null || true
	ip netns del sat-ld 2>/dev/null || true
	bench/perf_lab.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$OUT"
# SAT_RESUME=1 keeps the cases a stopped run finished and runs only the rest
[ "${SAT_RESUME:-0}" = 1 ] || rm -f "$OUT"/*.json "$OUT"/*.png "$OUT"/*.log "$OUT"/*.txt

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# --- coturn's side: two namespaces, two veth pairs ---
coturn_up() {
	ip netns add sat-co
	ip netns add sat-ld
	ip link add sat-c0 netns sat-co type veth peer name sat-c1 netns sat-ld
	ip link add sat-p0 netns sat-co type veth peer name sat-p1 netns sat-ld
	ip -n sat-co addr add 198.18.121.1/24 dev sat-c0
	ip -n sat-co addr add 198.18.111.1/24 dev sat-p0
	ip -n sat-ld addr add 198.18.121.2/24 dev sat-c1
	ip -n sat-ld addr add 198.18.111.2/24 dev sat-p1
	for l in lo sat-c0 sat-p0; do ip -n sat-co link set "$l" up; done
	for l in lo sat-c1 sat-p1; do ip -n sat-ld link set "$l" up; done
	# every client address is local to sat-ld (AnyIP), reached through its veth
	ip -n sat-ld route add local 198.18.64.0/20 dev lo
	ip -n sat-co route add 198.18.64.0/20 via 198.18.121.2
	taskset -c 1 ip netns exec sat-co turnserver -n --listening-ip=198.18.121.1 \
		--relay-ip=198.18.111.1 --lt-cred-mech --user=edge:edge-lab-password \
		--realm=lab.example --no-tls --no-dtls --no-cli --relay-threads=1 \
		--min-port=10000 --max-port=65535 --log-file=/dev/null --no-stdout-log \
		>/dev/null 2>&1 &
	COTURN_PID=$!
	sleep 1.5
	kill -0 "$COTURN_PID" || { echo "coturn did not start" >&2; exit 1; }
}

EDGED_PID=
edged_up() {	# edged_up [longest idle sleep, us]
	bench/perf_lab.sh down >/dev/null 2>&1 || true
	EDGE_PERF_LOCK_WAIT=${EDGE_PERF_LOCK_WAIT:-900} EDGE_PERF_RELAY_PORTS=10000-65535 \
		EDGE_PERF_IDLE_SLEEP_US=${1:-} bench/perf_lab.sh up >/dev/null
	EDGED_PID=$(cat /run/edge-perf/edged.pid)
	sleep 2
}

# load <server> <allocs> <size> <json> [edgeload options...]: one edgeload run (tried again
# once: edged's memif server takes a moment to see the last run's client go)
load() {
	load_once "$@" 2>/dev/null || { sleep 2; load_once "$@"; }
}

load_once() {
	local srv=$1 n=$2 size=$3 json=$4
	shift 4
	sleep 1
	if [ "$srv" = edged ]; then
		# no UDP checksums from edgeload here: computing them in software (313 ns a 1200-byte
		# packet, el_dpdk.c) would make it, not edged, the bottleneck; veth spares coturn's
		# path the same work (checksum offload), and 0 is "no checksum" in IPv4
		EDGELOAD_UDP_CSUM=0 timeout 600 "$EL" --backend dpdk --eal "--no-huge -m 1024 -l 0" \
			--client-dev net_memif0,role=client,socket=/run/edge-perf/b.sock,socket-abstract=no,rsize=12 \
			--peer-dev net_memif1,role=client,socket=/run/edge-perf/a.sock,socket-abstract=no,rsize=12 \
			--server 198.18.20.1:3478 --peer-ip 198.18.10.2 --server-pid "$EDGED_PID" \
			--user edge --password edge-lab-password --clients "$n" --client-ip $CLIENTS \
			--peers 64 --peer-port 40000 --size "$size" --phase-timeout 300 --quiet \
			--json "$json" "$@" >"${json%.json}.log" 2>&1 || true
	else
		timeout 600 "$EL" --backend sock --client-netns sat-ld --peer-netns sat-ld --lcore 0 \
			--server 198.18.121.1:3478 --peer-ip 198.18.111.2 --server-pid "$COTURN_PID" \
			--user edge --password edge-lab-password --clients "$n" --client-ip $CLIENTS \
			--peers 64 --peer-port 40000 --size "$size" --phase-timeout 300 --quiet \
			--json "$json" "$@" >"${json%.json}.log" 2>&1 || true
	fi
	[ -s "$json" ] || { echo "edgeload wrote no $json: $(tail -2 "${json%.json}.log")" >&2; return 1; }
}

# fig <json> <python expression over d>: one figure of a run
fig() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The no-loss search: the highest total send rate at which at most 1 packet in 10 000 is lost,
# over 6 bisection steps between 5% and 100% of the rate the saturation run delivered. Not 0:
# this virtual machine stalls a CPU for up to ~10 ms now and then, and a stall longer than a
# port's ring (memif: 4096 descriptors here) loses what arrives meanwhile at any rate above
# ring / stall; coturn's sockets have 8 MB buffers.
search() {
	local srv=$1 n=$2 size=$3 sat=$4 lo hi mid j lost best=0
	lo=$((sat / 20)); hi=$sat
	for step in 1 2 3 4 5 6; do
		mid=$(( (lo + hi) / 2 ))
		j=$OUT/$srv-$n-$size-search$step.json
		load "$srv" "$n" "$size" "$j" --pattern custom --rate "$mid" \
			--pps $(( (mid + n - 1) / n )) --duration "$DUR" --warmup 1 || { hi=$mid; continue; }
		lost=$(fig "$j" "d['traffic']['lost']")
		if [ "$(fig "$j" "int(d['traffic']['lost'] * 10000 <= d['traffic']['sent'])")" = 1 ]; then
			lo=$mid; best=$mid
		else
			hi=$mid
		fi
		echo "  $srv $n x $size B: $mid pps sent -> $lost lost" >&2
	done
	echo "$best"
}

idle() {	# idle <pid>: CPU-seconds per second over 10 s
	local c0; c0=$(cpu_of "$1"); sleep 10
	awk -v d=$(( $(cpu_of "$1") - c0 )) -v hz="$HZ" 'BEGIN {printf "%.4f", d / hz / 10}'
}

coturn_up
echo "idle cost (10 s each)..."
IDLE_C=$(idle "$COTURN_PID")
IDLE_E=
for us in 200 1000 5000; do	# the worker's longest idle sleep
	edged_up "$us"
	IDLE_E="$IDLE_E${IDLE_E:+, }$(idle "$EDGED_PID") at $us us"
done
echo "  edged $IDLE_E; coturn $IDLE_C CPU-seconds per second"
edged_up	# perf.conf's own setting for the runs

for n in 1000 "$BIG"; do
	for size in 172 1200; do
		for srv in edged coturn; do
			base=$OUT/$srv-$n-$size
			[ -s "$base-half.json" ] && continue	# SAT_RESUME: done
			if [ ! -s "$base-noloss.txt" ]; then
				load "$srv" "$n" "$size" "$base-sat.json" --pattern max \
					--duration "$DUR" --warmup 1 || continue
				sat=$(fig "$base-sat.json" "int(d['traffic']['sent_pps'])")
				echo "$srv $n x $size B: saturation $(fig "$base-sat.json" \
					"int(d['traffic']['c2p_pps'] + d['traffic']['p2c_pps'])") relayed pps"
				nl=$(search "$srv" "$n" "$size" "$sat")
				echo "$nl" > "$base-noloss.txt"
			fi
			sat=$(fig "$base-sat.json" "int(d['traffic']['sent_pps'])")
			nl=$(cat "$base-noloss.txt")
			half=$(( nl / 2 ))
			[ "$half" -gt 0 ] || half=$(( sat / 20 ))
			load "$srv" "$n" "$size" "$base-half.json" --pattern custom --rate "$half" \
				--pps $(( (half + n - 1) / n )) --duration "$DUR" --warmup 1 \
				--plot "$base-half.png" || continue
			echo "$srv $n x $size B: no loss up to $nl pps sent; at $half: p99 $(fig \
				"$base-half.json" "d['traffic']['latency']['p99_us']") us"
		done
	done
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
$PY bench/turn_saturation_report.py "$OUT" "$MD" "$BIG" "$DUR" "$IDLE_E" "$IDLE_C" \
	"$cpu, $(nproc) cores, $(uname -r); DPDK $(dpkg-query -W -f='${Version}' dpdk); coturn $(dpkg-query -W -f='${Version}' coturn)"
echo "bench: wrote $MD"
