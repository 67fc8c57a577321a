#!/usr/bin/env bash
# The soak (issue 17): edged in the lab with its meeting set up (scripts/lab.sh webrtc), under
# every kind of work at once for a while, then checked back to where it started:
#   - TURN over UDP: edgeload, 20 allocations a run, relaying audio both ways, each run
#     allocating, refreshing its channels, relaying and deleting (runs of 6 s, back to back);
#   - TURN over TCP and TLS: coturn's turnutils_uclient (2 clients x 20 messages), in turn;
#   - guests joining space 9999 from headless Chromium and leaving, one after another;
#   - live changes: a firewall rule added and deleted on b (its firewall enabled), and TURN
#     users added and deleted, every second.
# Sampled every few seconds (tests/soak/soak_sample.py): resident memory, descriptors, packet
# buffers in use, DPDK's heap, allocations, TURN table entries, stream connections, media
# legs, participants and calls, the callbridge's database rows. At the end, with the work
# stopped and drained: every count back to its baseline, memory and descriptors flat after
# warm-up, no packet lost on the allowed flows, no error in the log.
#
#   tests/soak/soak.sh [<seconds> [<results dir>]]   (default 60 s; SOAK_SECONDS too)
# The results dir gets samples.csv, summary.txt and soak.png (kept; default: a temporary
# dir, removed). Ends with "soak tests: N passed, N failed"; exit 77 without namespaces.
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
SECS=${1:-${SOAK_SECONDS:-60}}
OUT=${2:-}
RUN=/run/edge-lab
CERTS=$RUN/certs
PY=/usr/bin/python3
EL=$ROOT/build/bench/edgeload/edgeload
SAMPLE=$ROOT/tests/soak/soak_sample.py
BROWSER=$ROOT/tests/integration/clients/browser_join.py
PIDS=() W=

case "$SECS" in '' | *[!0-9]*) echo "soak: '$SECS': seconds must be a number" >&2; exit 2 ;; esac
[ "$SECS" -ge 20 ] && [ "$SECS" -le 86400 ] || { echo "soak: $SECS s: must be 20..86400" >&2; exit 2; }
# the long run samples less often; warm-up is the first fifth, at most 5 minutes
INTERVAL=$((SECS >= 600 ? 10 : 2))
WARM=$((SECS / 5 > 300 ? 300 : SECS / 5))

require_netns soak
for t in "$EL" turnutils_uclient turnutils_peer /usr/bin/chromium /usr/bin/chromedriver sqlite3; do
	command -v "$t" >/dev/null || { echo "soak tests: $t missing (scripts/setup.sh)"; echo "soak tests: 0 passed, 1 failed"; exit 1; }
done

cleanup() {
	local p
	touch "$W/stop" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	"$LAB" down >/dev/null 2>&1 || true
	[ -n "$W" ] && [ -z "$OUT" ] && rm -rf "$W"
}
trap cleanup EXIT
if [ -n "$OUT" ]; then mkdir -p "$OUT" && W=$(cd "$OUT" && pwd) && rm -f "$W"/*.csv "$W"/*.tsv "$W/stop"; else W=$(mktemp -d /tmp/edge-soak.XXXXXX); fi

"$LAB" down >/dev/null 2>&1 || true
{ EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up && "$LAB" webrtc; } >"$W/lab.out" 2>&1 ||
	{ tail -20 "$W/lab.out"; echo "soak tests: 0 passed, 1 failed"; exit 1; }
EDGED_PID=$(cat $RUN/edged.pid)
ctl firewall b enable >/dev/null && ctl firewall b default allow >/dev/null ||
	bad "firewall b enable refused"
LOG0=$(stat -c %s $RUN/edged.log)

# ---- the work: each loop bounded by the deadline, a stop file and a count ----
T0=$(date +%s)
END=$((T0 + SECS))
running() { [ "$(date +%s)" -lt "$END" ] && [ ! -e "$W/stop" ]; }

# TURN over UDP: one edgeload run after another; a line per run in udp.tsv:
# exit allocated released sent lost
udp_work() {
	local i=0 rc
	while running && [ $i -lt 100000 ]; do
		i=$((i + 1))
		timeout 60 "$EL" --backend sock --client-netns public --peer-netns internal --quiet \
			--server 198.18.20.1:3478 --user edge --password edge-lab-password --clients 20 \
			--client-ip 198.18.20.2 --peer-ip 198.18.10.2 --peer-port $((41000 + i % 2 * 100)) \
			--pattern audio --duration 6 --json "$W/udp.json" >"$W/udp.out" 2>&1
		rc=$?
		$PY -c 'import json, sys; d = json.load(open(sys.argv[1])); t = d["traffic"]
print(sys.argv[2], d["allocate"]["ok"], d["release"]["ok"], t["sent"], t["lost"], sep="\t")' \
			"$W/udp.json" $rc >>"$W/udp.tsv" 2>/dev/null || printf '%s\t-\t-\t-\t-\n' $rc >>"$W/udp.tsv"
		rm -f "$W/udp.json"
	done
}
# TURN over TCP and TLS (447), in turn: exit transport lost echoed (of 40)
stream_work() {
	local i=0 out tr args
	while running && [ $i -lt 100000 ]; do
		i=$((i + 1))
		if [ $((i % 2)) = 0 ]; then tr=tls args=(-S -p 447); else tr=tcp args=(); fi
		out=$(timeout 60 ip netns exec public turnutils_uclient -t "${args[@]}" -c -u edge \
			-w edge-lab-password -e 198.18.10.2 -r 3480 -n 20 -m 2 -l 172 198.18.20.1 2>&1)
		printf '%s\t%s\t%s\t%s\n' $? $tr "$(sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' <<<"$out" | tail -1)" \
			"$(sed -n 's/.*start_mclient: tot_send_msgs=[0-9]*, tot_recv_msgs=\([0-9]*\)$/\1/p' <<<"$out" | tail -1)" >>"$W/stream.tsv"
		sleep 0.5
	done
}
# guests: join 9999, stay 3 s, leave: exit ok
guest_work() {
	local i=0 res
	while running && [ $i -lt 100000 ]; do
		i=$((i + 1))
		# a guest takes ~10 s: none starts that could not finish before the end
		[ $((END - $(date +%s))) -ge 25 ] || break
		timeout 90 ip netns exec public $PY "$BROWSER" --url https://198.18.20.1:445/ \
			--ca "$CERTS/lab-ca.pem" --meeting 9999 --name "Soak$i" --stay 3 --mute --timeout 60 \
			>"$W/guest.json" 2>"$W/guest.err"
		res=$?
		printf '%s\t%s\n' $res "$(grep -c '"ok": true' "$W/guest.json")" >>"$W/guests.tsv"
		[ $res = 0 ] || { echo "--- guest $i"; cat "$W/guest.err"; tail -c 600 "$W/guest.json"; } >>"$W/guest-failures.txt"
	done
}
# live changes, every second: exit-status-of-each line in changes.tsv
change_work() {
	local i=0 r
	while running && [ $i -lt 100000 ]; do
		i=$((i + 1))
		r=0
		ctl firewall b deny 40000-40010/udp >/dev/null || r=1
		ctl turn credentials "soak$((i % 5))" "soak-pw-$i" lab.example >/dev/null || r=2
		ctl firewall b delete deny 40000-40010/udp >/dev/null || r=3
		[ $((i % 5)) = 4 ] && { ctl turn credentials delete "soak$((i % 5))" >/dev/null || r=4; }
		echo $r >>"$W/changes.tsv"
		sleep 1
	done
}

echo "== soak: $SECS s, sampled every $INTERVAL s, results in $W"
timeout $((SECS + 300)) ip netns exec internal turnutils_peer -L 198.18.10.2 -p 3480 >"$W/peer.log" 2>&1 &
PIDS+=($!)
$PY "$SAMPLE" --edgectl "$ROOT/build/edgectl" --sock "$SOCK" --db $RUN/callbridge.db --t0 "$T0" \
	--csv "$W/samples.csv" --interval $INTERVAL --until $((END + 60)) 2>"$W/sample.err" &
SAMPLER=$!
PIDS+=($SAMPLER)
sleep 1
udp_work & PIDS+=($!)
stream_work & PIDS+=($!)
guest_work & PIDS+=($!)
change_work & PIDS+=($!)
WORKERS=("${PIDS[@]:2}")
last=0
while running; do
	sleep 1
	now=$(($(date +%s) - T0))
	if [ $((now - last)) -ge $((SECS >= 600 ? 300 : 20)) ]; then
		last=$now
		echo "   ${now}s: $(tail -1 "$W/samples.csv" | cut -d, -f2-10 | tr , ' ') (rss malloc fds mbufs heap allocs slots objs conns)"
	fi
done
# the workers finish the run they are in (each bounded: 90 s at most)
for p in "${WORKERS[@]}"; do
	for _ in $(seq 900); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill "$p" 2>/dev/null
done
STOP=$(date +%s)

# ---- drained: everything back to the baseline ----
# what the work made goes when it ends: released allocations at once, removed objects after a
# grace period, guests' legs with their WebSocket, stream connections with their clients
base() { sed -n 2p "$W/samples.csv" | cut -d, -f"$1"; }
col() { head -1 "$W/samples.csv" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
final=
for _ in $(seq 30); do
	final=$($PY "$SAMPLE" --edgectl "$ROOT/build/edgectl" --sock "$SOCK" --db $RUN/callbridge.db --t0 "$T0" --once)
	drained=1
	for c in allocations table_slots table_objects stream_conns media_legs participants calls; do
		[ "$(cut -d, -f"$(col $c)" <<<"$final")" = "$(base "$(col $c)")" ] || drained=
	done
	[ -n "$drained" ] && break
	sleep 1
done
kill $SAMPLER 2>/dev/null
echo "$final" >>"$W/samples.csv"
fig() { cut -d, -f"$(col "$1")" <<<"$final"; }

echo "== the work"
read -r runs aok rok sent lost fails <<<"$(awk -F'\t' '{n++; a += $2; r += $3; s += $4; l += $5; if ($1 != 0 || $2 != 20 || $3 != 20) f++} END {print n + 0, a + 0, r + 0, s + 0, l + 0, f + 0}' "$W/udp.tsv" 2>/dev/null)"
if [ "${runs:-0}" -ge 1 ] && [ "$fails" = 0 ] && [ "$lost" = 0 ] && [ "$sent" -gt 0 ]; then
	ok "TURN/UDP: $runs edgeload runs, $aok allocated, $rok deleted, $sent packets relayed round trip, none lost"
else
	bad "TURN/UDP: $runs runs, $fails failed, $aok allocated, $rok deleted, lost $lost of $sent: $(tail -3 "$W/udp.out")"
fi
read -r runs tcp tls lost echoed fails <<<"$(awk -F'\t' '{n++; if ($2 == "tcp") c++; else t++; l += $3; e += $4; if ($1 != 0 || $3 != "0" || $4 != 40) f++} END {print n + 0, c + 0, t + 0, l + 0, e + 0, f + 0}' "$W/stream.tsv" 2>/dev/null)"
if [ "${runs:-0}" -ge 2 ] && [ "$fails" = 0 ]; then
	ok "TURN/TCP and TLS: $runs turnutils_uclient runs ($tcp TCP, $tls TLS), $echoed messages echoed, none lost"
else
	bad "TURN/TCP and TLS: $runs runs, $fails failed (lost $lost, echoed $echoed)"
fi
read -r runs good <<<"$(awk -F'\t' '{n++; if ($1 == 0 && $2 == 1) g++} END {print n + 0, g + 0}' "$W/guests.tsv" 2>/dev/null)"
if [ "${runs:-0}" -ge 1 ] && [ "$good" = "$runs" ]; then
	ok "guests: $runs joined space 9999 from Chromium and left"
else
	bad "guests: $good of $runs joined and left: $(head -c 1500 "$W/guest-failures.txt" 2>/dev/null)"
fi
read -r runs fails <<<"$(awk '{n++; if ($1 != 0) f++} END {print n + 0, f + 0}' "$W/changes.tsv" 2>/dev/null)"
[ "${runs:-0}" -ge 5 ] && [ "$fails" = 0 ] && ok "live changes: $runs rounds of firewall rules and TURN users, all taken" ||
	bad "live changes: $fails of $runs rounds refused a change"

echo "== back to the baseline ($((STOP - T0)) s of work, drained in $(($(date +%s) - STOP)) s)"
for c in allocations table_slots table_objects stream_conns media_legs participants calls db_rows; do
	b=$(base "$(col $c)") f=$(fig $c)
	peak=$(cut -d, -f"$(col $c)" "$W/samples.csv" | tail -n +2 | sort -n | tail -1)
	[ -n "$b" ] && [ "$b" = "$f" ] && ok "$c: $b at the start, $f at the end (peak $peak)" ||
		bad "$c: '$b' at the start, '$f' at the end (peak $peak)"
done
b=$(base "$(col mbufs_in_use)") f=$(fig mbufs_in_use)
peak=$(cut -d, -f"$(col mbufs_in_use)" "$W/samples.csv" | tail -n +2 | sort -n | tail -1)
[ -n "$b" ] && [ "$b" = "$f" ] && ok "packet buffers in use: $b at the start, $f at the end (peak $peak)" ||
	bad "packet buffers in use: '$b' at the start, '$f' at the end (peak $peak)"
# memory and descriptors: flat from the end of warm-up (the first fifth) to the end
warm=$(awk -F, -v w="$WARM" 'NR > 1 && $1 >= w {print; exit}' "$W/samples.csv")
for c in rss_mb malloc_mb heap_mb fds; do
	wv=$(cut -d, -f"$(col $c)" <<<"$warm") f=$(fig $c) b=$(base "$(col $c)")
	# resident memory: the highest sample of the second fifth, not one sample at its start
	# (RSS still climbs to its plateau there as the allocator keeps what the first rounds
	# freed: 60.0 or 62.7 MB at 12 s in two runs of one build, 65-66 MB at the end of both)
	[ $c = rss_mb ] && wv=$(awk -F, -v w="$WARM" -v k="$(col $c)" \
		'NR > 1 && $1 >= w && $1 <= 2 * w && $k > m {m = $k} END {print m}' "$W/samples.csv")
	peak=$(cut -d, -f"$(col $c)" "$W/samples.csv" | tail -n +2 | sort -n | tail -1)
	case $c in
	# resident memory moves by a few MB with the allocator's arenas (it falls back too);
	# what malloc holds is steadier: a leak shows there first
	rss_mb) tol=$(awk -v w="$wv" 'BEGIN {t = w * 0.05; print (t > 4 ? t : 4)}') ;;
	malloc_mb) tol=$(awk -v w="$wv" 'BEGIN {t = w * 0.02; print (t > 1 ? t : 1)}') ;;
	heap_mb) tol=0.25 ;;
	fds) tol=0 ;;
	esac
	if [ -n "$wv" ] && [ -n "$f" ] && awk -v f="$f" -v w="$wv" -v t="$tol" 'BEGIN {exit !(f <= w + t)}'; then
		ok "$c: $b at the start, $wv after warm-up (${WARM} s$([ $c = rss_mb ] && echo ", the highest to $((2 * WARM)) s")), $f at the end (peak $peak; allowed +$tol)"
	else
		bad "$c: $b at the start, '$wv' after warm-up, '$f' at the end (peak $peak; allowed +$tol)"
	fi
done
[ -d /proc/$EDGED_PID ] && ok "edged still running (pid $EDGED_PID)" || bad "edged is gone: $(tail -5 $RUN/edged.out)"
tail -c +$((LOG0 + 1)) $RUN/edged.log >"$W/edged.log"
errs=$(grep -cE 'local0\.(err|crit|alert|emerg) ' "$W/edged.log")
[ "$errs" = 0 ] && ok "the log: no error in $(wc -l <"$W/edged.log") lines" ||
	bad "the log: $errs errors: $(grep -m3 -E 'local0\.(err|crit|alert|emerg) ' "$W/edged.log")"

{
	echo "soak of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) on $(date -u +%Y-%m-%dT%H:%MZ): $SECS s of work, sampled every $INTERVAL s"
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	echo "TURN/UDP runs (exit allocated released sent lost): $(wc -l <"$W/udp.tsv")"
	echo "TURN/TCP+TLS runs: $(wc -l <"$W/stream.tsv" 2>/dev/null)"
	echo "guests: $(wc -l <"$W/guests.tsv" 2>/dev/null)"
	echo "live change rounds: $(wc -l <"$W/changes.tsv" 2>/dev/null)"
	echo "first, after warm-up and final samples (columns: $(head -1 "$W/samples.csv")):"
	sed -n 2p "$W/samples.csv"; echo "$warm"; echo "$final"
	echo "peaks: $(for c in rss_mb malloc_mb fds mbufs_in_use heap_mb allocations stream_conns media_legs participants; do
		printf '%s %s, ' $c "$(cut -d, -f"$(col $c)" "$W/samples.csv" | tail -n +2 | sort -n | tail -1)"; done)"
	echo "re-run: tests/soak/soak.sh $SECS <dir> (as root; the lab is made and removed)"
} >"$W/summary.txt"
/usr/bin/python3 "$ROOT/tests/soak/soak_plot.py" "$W/samples.csv" "$W/soak.png" \
	"edged soak: $SECS s of TURN (UDP, TCP, TLS), guests and live changes" 2>&1 | head -3
[ -n "$OUT" ] && echo "results: $W/summary.txt, $W/samples.csv, $W/soak.png"
finish soak
