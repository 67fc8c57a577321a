#!/usr/bin/env bash
# Runs the in-memory benchmarks and writes bench/results/<name>.md with the machine, the
# command and the figures. Timings are noisy on shared machines; the callgrind instruction
# counts are the stable figure.   scripts/bench.sh [l2l3|stun|firewall|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ -x build/edged ] || scripts/setup.sh >/dev/null
ninja -C build >/dev/null
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
machine="$cpu, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), DPDK $(pkg-config --modversion libdpdk)"

l2l3() {
	local out=bench/results/l2l3.md pk=20000000 cgpk=64000 ir
	echo "bench: l2l3 ($pk packets per path)"
	local table; table=$(./build/bench/bench_l2l3 $pk)
	echo "$table"
	if command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --toggle-collect=dp_port_input --callgrind-out-file=/tmp/edge-cg.out \
			./build/bench/bench_l2l3 $cgpk >/dev/null 2>/tmp/edge-cg.log
		# dp_port_input ran for the measured packets plus 1000 warm-up bursts of 32
		ir=$(awk '/Collected/ {print $4}' /tmp/edge-cg.log)
		ir=$(awk -v ir="$ir" -v n=$((cgpk + 32000)) 'BEGIN {printf "%.0f", ir / n}')
	fi
	cat > $out <<MD
# ICMP echo path vs the framework floor

- Machine: $machine
- Date: $(date -u +%Y-%m-%d)
- Command: \`scripts/bench.sh l2l3\` (runs \`build/bench/bench_l2l3 $pk\`, then callgrind)

98-byte ICMP echo requests in bursts of 32 go round a \`net_ring\` port in memory: rx burst,
the data plane's stages (\`dp_port_input\`: Ethernet, IPv4 validation incl. header checksum,
ICMP checksum check, reply built in place), tx burst. The floor is the same loop with no
stages (plain DPDK rx -> tx on the same port), measured in the same run. Both include
rewriting each mbuf with a fresh request (a 98-byte copy), so the difference is the stages.

\`\`\`
$table
\`\`\`

Instructions per packet in \`dp_port_input\` (callgrind, stable across runs): **${ir:-n/a}**
MD
	echo "bench: wrote $out"
}

case $what in
l2l3) l2l3 ;;
stun) [ -x build/bench/bench_stun ] && ./build/bench/bench_stun ;;
firewall) [ -x build/bench/bench_firewall ] && ./build/bench/bench_firewall ;;
all) l2l3; [ -x build/bench/bench_stun ] && ./build/bench/bench_stun || true; [ -x build/bench/bench_firewall ] && ./build/bench/bench_firewall || true ;;
*) echo "usage: $0 [l2l3|stun|firewall|all]" >&2; exit 2 ;;
esac
