#!/usr/bin/env bash
# The performance lab (issue 14): edged with its two interfaces on memif ports, driven through
# shared memory by edgeload (DPDK back-end, memif client), so no kernel sits on the measured path.
#
#   edgeload --client-port net_memif0,role=client,socket=/run/edge-perf/b.sock,socket-abstract=no
#   (clients 198.18.64.0/18 ...) ===memif b.sock=== [b] edged [a] ===memif a.sock=== edgeload peers
#                                                 namespace $EDGE_PERF_NS
#
#   bench/perf_lab.sh up      start edged on config/perf.conf (copied to /run/edge-perf/edged.conf)
#   bench/perf_lab.sh down    stop it, remove the namespace and /run/edge-perf
#   bench/perf_lab.sh status  what is running, and edged's status
# Environment: EDGE_BUILD (build directory holding edged and edgectl; default ./build),
# EDGE_PERF_NS (edged's network namespace; default edgeperf), EDGE_PERF_NO_HUGE=1 (--no-huge
# even where hugepages are reserved), EDGE_PERF_IDLE_SLEEP_US=N (the worker's longest idle sleep;
# 0: it busy-polls CPU 1, the classic DPDK way, for latency without the idle back-off's wake-up
# cost; default 1000 as in perf.conf), EDGE_PERF_RELAY_PORTS=LO-HI (TURN's relay port range: one
# allocation a port, so 49152-65535 holds 16384), EDGE_PERF_LOCK_WAIT=S (wait up to S seconds for the lab
# lock instead of refusing at once).
#
# CPUs (this machine has 2): edged's EAL cores are "0,1": its worker (the data plane, the
# measured thing) has CPU 1 to itself; its control plane (CLI, TURN control messages through the
# punt path, ARP) shares CPU 0 with edgeload, which is pinned there (-l 0). The worker must never
# share its CPU, or the figures measure the scheduler; the control plane and the load generator
# are the cheap, bursty parts, and what they cost each other shows as latency, not as lost
# worker cycles.
#
# The lab (scripts/lab.sh) and the perf lab must not run together (same addresses, same CPUs):
# edged is started holding /tmp/edge-lab.lock (taken without waiting) and keeps it until it
# exits, so `flock /tmp/edge-lab.lock scripts/lab.sh up` waits until `perf_lab.sh down`. Do not
# wrap this script in flock itself: it would then find the lock taken and refuse.
# Only 198.18.0.0/15 is used, and only inside the namespace and the memif sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN=/run/edge-perf			# fixed: config/perf.conf names its sockets and files there
NS=${EDGE_PERF_NS:-edgeperf}
BUILD=${EDGE_BUILD:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
EDGED=$BUILD/edged
EDGECTL=$BUILD/edgectl
CONF=$RUN/edged.conf
SOCK=$RUN/edged.sock
PIDF=$RUN/edged.pid
OUT=$RUN/edged.out
LOCK=/tmp/edge-lab.lock
LOCK_WAIT=${EDGE_PERF_LOCK_WAIT:-0}
case "$LOCK_WAIT" in ''|*[!0-9]*) echo "perf-lab: EDGE_PERF_LOCK_WAIT='$LOCK_WAIT': expected seconds" >&2; exit 2 ;; esac

say() { printf 'perf-lab: %s\n' "$*"; }
die() { printf 'perf-lab: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo bench/perf_lab.sh $*): it makes a namespace and starts DPDK"

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
edged_pid() { [ -f "$PIDF" ] && cat "$PIDF" || true; }
edged_alive() {
	local pid; pid=$(edged_pid)
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q edged "/proc/$pid/comm" 2>/dev/null
}
ctl() { "$EDGECTL" -s "$SOCK" "$@"; }

start_edged() {
	edged_alive && { say "edged already running (pid $(edged_pid))"; return 0; }
	rm -f "$SOCK"
	# fd 9 holds the lab lock for edged's whole life; ip netns exec execs edged, so $! is its pid
	(
		exec 9>"$LOCK"
		if ! flock -w "$LOCK_WAIT" 9; then
			echo "perf-lab: $LOCK is held: the lab (scripts/lab.sh) or another perf lab is running" >&2
			exit 75
		fi
		exec ip netns exec "$NS" "$EDGED" -c "$CONF"
	) >>"$OUT" 2>&1 &
	echo $! > "$PIDF"
	for _ in $(seq 1 $((150 + LOCK_WAIT * 5))); do
		if [ -S "$SOCK" ] && ctl status >/dev/null 2>&1; then
			say "edged running (pid $(edged_pid)), control socket $SOCK"
			return 0
		fi
		[ -d "/proc/$(edged_pid)" ] || break
		sleep 0.2
	done
	tail -20 "$OUT" "$RUN/edged.log" >&2 2>/dev/null || true
	die "edged did not start (output above)"
}

stop_edged() {
	local pid; pid=$(edged_pid)
	if edged_alive; then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; say "edged killed (did not stop in 10 s)"; fi
		say "edged stopped"
	fi
	rm -f "$PIDF"
}

up() {
	[ -x "$EDGED" ] && [ -x "$EDGECTL" ] || die "no $EDGED or $EDGECTL: build them (ninja -C ${BUILD#$ROOT/} edged edgectl) or set EDGE_BUILD"
	if ! edged_alive && ! flock -w "$LOCK_WAIT" "$LOCK" true; then
		die "$LOCK is held: the lab (scripts/lab.sh) or another perf lab is running (EDGE_PERF_LOCK_WAIT=S waits)"
	fi
	[ -f /run/edge-lab/namespaces ] && die "the lab is up (/run/edge-lab): scripts/lab.sh down first"
	mkdir -p "$RUN"
	mkdir -p -m 700 "$RUN/certs"
	if [ -f "$RUN/namespace" ]; then
		say "perf lab already up; starting edged if it is not running"
	else
		ns_exists "$NS" && die "namespace '$NS' exists already and is not the perf lab's: remove it or set EDGE_PERF_NS"
		ip netns add "$NS"
		echo "$NS" > "$RUN/namespace"
		# only the TAP mirrors live here (and lo): nothing of the lab reaches the machine's
		# own namespace, and no route leads out of this one
		ip -n "$NS" link set lo up
		cp config/perf.conf "$CONF"
		local free; free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
		if [ "${free:-0}" -ge 160 ] && [ -z "${EDGE_PERF_NO_HUGE:-}" ]; then
			sed -i 's/^\(\s*hugepages = \)false;/\1true;/' "$CONF"
			say "DPDK memory: hugepages"
		else
			say "DPDK memory: --no-huge (no hugepages reserved)"
		fi
		if [ -n "${EDGE_PERF_RELAY_PORTS:-}" ]; then
			case "$EDGE_PERF_RELAY_PORTS" in *[!0-9-]*) die "EDGE_PERF_RELAY_PORTS='$EDGE_PERF_RELAY_PORTS': expected LO-HI" ;; esac
			sed -i "s/^\(\s*relay_ports = \)\"[0-9-]*\";/\1\"$EDGE_PERF_RELAY_PORTS\";/" "$CONF"
			say "relay ports: $EDGE_PERF_RELAY_PORTS"
		fi
		if [ -n "${EDGE_PERF_IDLE_SLEEP_US:-}" ]; then
			case "$EDGE_PERF_IDLE_SLEEP_US" in *[!0-9]*) die "EDGE_PERF_IDLE_SLEEP_US='$EDGE_PERF_IDLE_SLEEP_US': expected microseconds" ;; esac
			sed -i "s/^\(\s*idle_sleep_us = \)[0-9]*;/\1$EDGE_PERF_IDLE_SLEEP_US;/" "$CONF"
			say "worker idle sleep: at most $EDGE_PERF_IDLE_SLEEP_US us"
		fi
	fi
	rm -f "$RUN/a.sock" "$RUN/b.sock"	# a server's socket left by a killed edged
	start_edged
	ctl status
	say "edgeload's ports: client net_memif0,role=client,socket=$RUN/b.sock,socket-abstract=no"
	say "                  peer   net_memif1,role=client,socket=$RUN/a.sock,socket-abstract=no"
	say "TURN: 198.18.20.1:3478, user edge / edge-lab-password, realm lab.example; peers on a (198.18.10.0/24)"
}

down() {
	stop_edged
	if [ -f "$RUN/namespace" ]; then
		ip netns del "$(cat "$RUN/namespace")" 2>/dev/null || true
		say "namespace $(cat "$RUN/namespace") removed"
	fi
	rm -rf "$RUN"
}

status() {
	if [ -f "$RUN/namespace" ]; then say "up, namespace $(cat "$RUN/namespace")"; else say "perf lab is down"; fi
	if edged_alive; then say "edged running (pid $(edged_pid))"; ctl status; else say "edged not running"; fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
