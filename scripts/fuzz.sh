#!/usr/bin/env bash
# Fuzzes with libFuzzer, ASan and UBSan, each target for a bounded time (arg 1, seconds;
# default 60), from a copy of its seed corpus:
#   fuzz_stun  the STUN codec (seeds: the RFC vectors)
#   fuzz_turn  the TURN server under clients' UDP datagrams, stream frames, signed requests
#              and peers' data (seeds: allocations, channels, TCP relays)
#   fuzz_api   the callbridge's REST API and webadmin pages under any request, the
#              guests' JWT check under any token, and both ends of C2W under any fragments,
#              oversized messages among them (seeds: the API's objects, C2W messages)
#   fuzz_media the media port: the SFU's fast path (SRTP/SRTCP unprotect, the RTCP router),
#              ICE-lite checks and DTLS records (seeds: RTP, RTCP, a signed check, a
#              ClientHello)
#   fuzz_http  the metrics endpoint's HTTP request-head parser (seeds: Prometheus's own
#              request, pipelined, absolute-form, bodies, HTTP/2's preface)
#   fuzz_sdp   the callbridge's SDP offer parser and answer builder (seeds: Chromium's and
#              Firefox's real offers)
# Fails on any crash, leak or UB, keeping the input in tests/fuzz/crashes/. Prints the
# executions and their rate.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$work" "$log"' EXIT
if [ -f build-fuzz/build.ninja ]; then
	setup=(meson setup --reconfigure build-fuzz -Dfuzz=true)
else
	setup=(meson setup build-fuzz -Dfuzz=true)
fi
CC=clang "${setup[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }

fuzz() {
	local target=$1 seeds=$2 max_len=${3:-4096} runs cov
	ninja -C build-fuzz "tests/fuzz/$target" >"$log" 2>&1 || { cat "$log"; return 1; }
	rm -rf "$work/corpus" "$work/log"
	mkdir "$work/corpus"
	cp "tests/fuzz/corpus/$seeds"/* "$work/corpus/"
	echo "fuzz: $target for ${secs}s from $(ls "$work/corpus" | wc -l) seeds"
	if ! "./build-fuzz/tests/fuzz/$target" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/" -timeout=10 -max_len="$max_len" "$work/corpus" >"$work/log" 2>&1; then
		tail -40 "$work/log"
		mkdir -p tests/fuzz/crashes
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* tests/fuzz/crashes/ 2>/dev/null || true
		echo "fuzz: $target FAILED (inputs saved in tests/fuzz/crashes/)"
		return 1
	fi
	runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
	echo "fuzz: $target: ${runs:-?} executions in ${secs}s ($(( ${runs:-0} / secs )) a second, $(( ${runs:-0} * 60 / secs )) a minute), ${cov:-cov: ?}, no crash"
}

status=0
fuzz fuzz_stun stun || status=1
fuzz fuzz_turn turn || status=1
fuzz fuzz_api api || status=1
fuzz fuzz_media media || status=1
fuzz fuzz_sdp sdp 32768 || status=1
fuzz fuzz_http http 16384 || status=1
exit $status
