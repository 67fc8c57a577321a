#!/usr/bin/env bash
# Fuzzes the STUN parser for a bounded time (arg 1, seconds; default 60) with libFuzzer,
# ASan and UBSan, from the seed corpus of RFC vectors. Fails on any crash, leak or UB.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Dwerror=true >/tmp/edge-fuzz-setup.log 2>&1 ||
		{ cat /tmp/edge-fuzz-setup.log; exit 1; }
fi
ninja -C build-fuzz tests/fuzz/fuzz_stun >/tmp/edge-fuzz-build.log 2>&1 || { cat /tmp/edge-fuzz-build.log; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/stun/* "$work/"
echo "fuzz: fuzz_stun for ${secs}s"
if ! ./build-fuzz/tests/fuzz/fuzz_stun -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix="$work/" -timeout=10 "$work" >"$work/log" 2>&1; then
	tail -40 "$work/log"
	mkdir -p tests/fuzz/crashes && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* tests/fuzz/crashes/ 2>/dev/null || true
	echo "fuzz: FAILED (inputs saved in tests/fuzz/crashes/)"
	exit 1
fi
runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")
echo "fuzz: ${runs:-?} executions in ${secs}s ($(( ${runs:-0} * 60 / secs )) a minute), no crash"
