#!/usr/bin/env bash
# Fuzzes with libFuzzer, ASan and UBSan, each target for a bounded time (arg 1, seconds;
# default 60), from a copy of its seed corpus tests/fuzz/corpus/<name> (fuzz_<name>):
#   fuzz_stun   the STUN codec (seeds: the RFC vectors)
#   fuzz_turn   the TURN server under clients' UDP datagrams, stream frames, signed requests
#               and peers' data (seeds: allocations, channels, TCP relays)
#   fuzz_api    the callbridge's REST API and webadmin pages under any request, the
#               guests' JWT check under any token, and both ends of C2W under any fragments,
#               oversized messages among them (seeds: the API's objects, C2W messages)
#   fuzz_media  the media port: the SFU's fast path (SRTP/SRTCP unprotect, the RTCP router),
#               ICE-lite checks and DTLS records (seeds: RTP, RTCP, a signed check, a
#               ClientHello)
#   fuzz_http   the metrics endpoint's HTTP request-head parser (seeds: Prometheus's own
#               request, pipelined, absolute-form, bodies, HTTP/2's preface)
#   fuzz_sdp    the callbridge's SDP offer parser and answer builder (seeds: Chromium's and
#               Firefox's real offers)
#   fuzz_config the configuration file parser, and what it accepts saved, read back and saved
#               again to the same bytes (seeds: config/*.conf, small edge cases)
#   fuzz_cli    the CLI grammar: sessions of command lines against one running configuration,
#               each applied one saved and read back (seeds: the integration tests' and the
#               unit tests' commands, the README's)
#   fuzz_frame  a frame on an interface: Ethernet, ARP, IPv4, ICMP, IPv6 and its extension
#               headers, ICMPv6, Neighbour Discovery (seeds: what ping, ping -6 and a host's
#               kernel send, extension-header chains, fragments)
# Usage: scripts/fuzz.sh [--keep-corpus] [<seconds>] [<target> ...]   (no targets: all)
#        scripts/fuzz.sh --minimise [<target> ...]
# Fails on any crash, leak or UB, keeping the input in tests/fuzz/crashes/. Prints the
# executions and their rate. --keep-corpus merges what a run found back into the repository's
# corpus, minimised (libFuzzer -set_cover_merge=1 into a fresh directory, which then replaces
# tests/fuzz/corpus/<name>; seeds that stay keep their names); --minimise does only that, with
# no run. The build directory is $FUZZ_BUILD (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
all=(fuzz_stun fuzz_turn fuzz_api fuzz_media fuzz_sdp fuzz_http fuzz_config fuzz_cli fuzz_frame)
declare -A max_lens=([fuzz_frame]=2048 [fuzz_api]=8192 [fuzz_sdp]=32768 [fuzz_http]=16384 [fuzz_config]=16384)
# libconfig 1.5 leaks a token at some syntax errors (suppressed in fuzz_config.c): a leak check
# after each such input costs a heap scan, so fuzz_config's leaks are looked for at exit only
declare -A flags=([fuzz_config]=-detect_leaks=0)
keep=0 minimise_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep-corpus) keep=1; shift ;;
	--minimise) minimise_only=1; shift ;;
	*) break ;;
	esac
done
secs=60
if [ "$minimise_only" = 0 ] && [ $# -gt 0 ]; then
	secs=$1
	shift
fi
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: '$secs': seconds must be a positive number" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
	[ -d "tests/fuzz/corpus/${t#fuzz_}" ] && [ -f "tests/fuzz/$t.c" ] ||
		{ echo "fuzz: '$t': no such target (${all[*]})" >&2; exit 2; }
done
build=${FUZZ_BUILD:-build-fuzz}
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$work" "$log"' EXIT
if [ -f "$build/build.ninja" ]; then
	setup=(meson setup --reconfigure "$build" -Dfuzz=true)
else
	setup=(meson setup "$build" -Dfuzz=true)
fi
CC=clang "${setup[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }

# Replaces tests/fuzz/corpus/<name> by the smallest set of its files and of $2's (if given)
# that covers what all of them cover; files that stay under their old contents keep their names.
merge() {
	local target=$1 found=${2:-} seeds="tests/fuzz/corpus/${1#fuzz_}" f h before after bytes
	local fresh="$work/merged"

	rm -rf "$fresh"
	mkdir "$fresh"
	before=$(ls "$seeds" | wc -l)
	if ! "./$build/tests/fuzz/$target" -set_cover_merge=1 -max_len="${max_lens[$target]:-4096}" \
		-timeout=10 "$fresh" "$seeds" ${found:+"$found"} >"$work/merge.log" 2>&1; then
		tail -20 "$work/merge.log"
		echo "fuzz: $target: merge FAILED, corpus left as it was"
		return 1
	fi
	for f in "$seeds"/*; do
		h=$(sha1sum "$f" | cut -d' ' -f1)
		[ ! -f "$fresh/$h" ] || mv "$fresh/$h" "$fresh/$(basename "$f")"
	done
	rm -rf "$seeds"
	mkdir "$seeds"
	cp "$fresh"/* "$seeds/"
	after=$(ls "$seeds" | wc -l)
	bytes=$(cat "$seeds"/* | wc -c)
	echo "fuzz: $target: corpus $before -> $after files, $bytes bytes"
	[ "$bytes" -le 1048576 ] || echo "fuzz: $target: warning: its corpus is over 1 MB"
}

fuzz() {
	local target=$1 seeds=${1#fuzz_} max_len=${max_lens[$1]:-4096} runs cov
	ninja -C "$build" "tests/fuzz/$target" >"$log" 2>&1 || { cat "$log"; return 1; }
	[ "$minimise_only" = 0 ] || { merge "$target"; return; }
	rm -rf "$work/corpus" "$work/log"
	mkdir "$work/corpus"
	cp "tests/fuzz/corpus/$seeds"/* "$work/corpus/"
	echo "fuzz: $target for ${secs}s from $(ls "$work/corpus" | wc -l) seeds"
	if ! "./$build/tests/fuzz/$target" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/" -timeout=10 -max_len="$max_len" ${flags[$target]:-} \
		"$work/corpus" >"$work/log" 2>&1; then
		tail -40 "$work/log"
		mkdir -p tests/fuzz/crashes
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* tests/fuzz/crashes/ 2>/dev/null || true
		echo "fuzz: $target FAILED (inputs saved in tests/fuzz/crashes/)"
		return 1
	fi
	[ "$keep" = 0 ] || merge "$target" "$work/corpus" || return 1
	runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
	echo "fuzz: $target: ${runs:-?} executions in ${secs}s ($(( ${runs:-0} / secs )) a second, $(( ${runs:-0} * 60 / secs )) a minute), ${cov:-cov: ?}, no crash"
}

status=0
for t in "${targets[@]}"; do
	fuzz "$t" || status=1
done
exit $status
