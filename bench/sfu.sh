#!/usr/bin/env bash
# The SFU's whole fast path on one core (bench_sfu): our GCM, libsrtp2's GCM and libsrtp2's
# AES-CM side by side; timed run, then callgrind (instructions per forwarded packet); prints the
# table bench/results/sfu.md carries.   bench/sfu.sh [ms-per-case]
# BUILD=<dir> picks the build directory (default build); CPU=<n> the core (default the last).
set -euo pipefail
cd "$(dirname "$0")/.."
ms=${1:-500}
b=${BUILD:-build}
cpu=${CPU:-$(($(nproc) - 1))}
tmp=$(mktemp -d /tmp/edge-sfu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ninja -C "$b" bench/bench_sfu >/dev/null
model=$(lscpu | sed -n 's/^Model name: *//p')
echo "# $(date -u +%F) load $(cut -d' ' -f1-3 /proc/loadavg); $model, $(nproc) CPUs"
echo "# taskset -c $cpu $b/bench/bench_sfu $ms"
taskset -c "$cpu" "$b/bench/bench_sfu" "$ms" | tee "$tmp/run.txt"

# One batch (1024 input packets) per case, counted only around dp_port_input and the frees.
echo "# valgrind --tool=callgrind --collect-atstart=no $b/bench/bench_sfu 0"
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$tmp/cg" \
	"$b/bench/bench_sfu" 0 >/dev/null 2>"$tmp/cg.log"
for f in "$tmp"/cg.[0-9]*; do
	awk '/^desc: Trigger: Client Request:/ {c = $5} /^totals:/ {print c, $2}' "$f"
done | sort > "$tmp/ir"

awk -v irf="$tmp/ir" '
	BEGIN {
		while ((getline l < irf) > 0) { split(l, f, " "); ir[f[1]] = f[2] }
		printf "| payload B | R | implementation | ns/in pkt | ns/out pkt | TSC cyc/in pkt "
		print "| in pkt/s/core | out (forwarded) pkt/s/core | Ir/in pkt | Ir/out pkt |"
		print "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
	}
	/^#/ { next }
	{
		key = $1 "/" $3 "/R" $4
		printf "| %d | %d | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
			$3, $4, $1, $7, $8, $9, $10, $11, ir[key] / 1024, ir[key] / (1024 * $4)
	}
' "$tmp/run.txt"
