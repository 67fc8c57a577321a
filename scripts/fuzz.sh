#!/usr/bin/env bash
# Fuzzes the STUN codec for a bounded time (arg 1, seconds; default 60) with libFuzzer, ASan
# and UBSan, from a copy of the seed corpus (the RFC vectors). Fails on any crash, leak or UB,
# keeping the input in tests/fuzz/crashes/. Prints the executions and their rate.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
log=$(mktemp)
if [ -f build-fuzz/build.ninja ]; then
	setup=(meson setup --reconfigure build-fuzz -Dfuzz=true)
else
	setup=(meson setup build-fuzz -Dfuzz=true)
fi
CC=clang "${setup[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }
ninja -C build-fuzz tests/fuzz/fuzz_stun >"$log" 2>&1 || { cat "$log"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work" "$log"' EXIT
mkdir "$work/corpus"
cp tests/fuzz/corpus/stun/* "$work/corpus/"
echo "fuzz: fuzz_stun for ${secs}s from $(ls "$work/corpus" | wc -l) seeds"
if ! ./build-fuzz/tests/fuzz/fuzz_stun -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix="$work/" -timeout=10 -max_len=4096 "$work/corpus" >"$work/log" 2>&1; then
	tail -40 "$work/log"
	mkdir -p tests/fuzz/crashes
	cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* tests/fuzz/crashes/ 2>/dev/null || true
	echo "fuzz: FAILED (inputs saved in tests/fuzz/crashes/)"
	exit 1
fi
runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
echo "fuzz: ${runs:-?} executions in ${secs}s ($(( ${runs:-0} / secs )) a second, $(( ${runs:-0} * 60 / secs )) a minute), ${cov:-cov: ?}, no crash"
