#!/usr/bin/env bash
# Runs every test, setting up whatever is missing first (packages, hugepages, build):
#   1. unit tests (CUnit), built normally
#   2. the control plane's dependency graph (no cycle, scripts/check-deps.py) and the C's
#      formatting (scripts/check-format.sh); the same unit tests under ASan+UBSan
#   3. the lab integration tests (root, network namespaces; skipped where impossible): the
#      appliance itself, on IPv4 and IPv6 (ND and ping -6), TURN with coturn's clients over
#      UDP, then over TCP and TLS, the firewall, webbridge3 and the callbridge (a guest joins
#      from headless Chromium), in one appliance and then in two (edge and core, as the guide
#      deploys them), and the attacks on the appliance (tests/integration/security/), each of
#      which must fail; faults under
#      load (test_faults.sh: link flaps, a stalled control loop, a flood, SIGKILL and restart,
#      corrupt files and a full disk, certificates rotated, 10 000 firewall swaps); a short soak
#      (tests/soak/soak.sh, SOAK_SECONDS, default 60) checked back to its baseline; the Debian
#      package (tests/package/test_package.sh: built, installed into a fresh Debian 12 root,
#      run in the lab, upgraded, removed and purged)
#   4. the fuzzers (the STUN codec, the TURN server, the REST API, the media port, SDP, the
#      configuration file, the CLI, the frames an interface takes), each for a bounded time
#      (EDGE_FUZZ_SECONDS, default 60)
# Ends with one line "tests: N passed, N failed". Exit status 0 only if nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

pass=0 fail=0 skipped=0
step() { printf '\n=== %s (%d s in)\n' "$*" "$SECONDS"; }
tally() { pass=$((pass + $1)); fail=$((fail + $2)); }

if [ "$(id -u)" != 0 ]; then
	echo "test: run as root (sudo scripts/test.sh): setup installs packages, the lab makes namespaces" >&2
	exit 1
fi
step "setup"
scripts/setup.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

# meson prints "Ok: N" / "Fail: N" lines in its summary
meson_counts() {
	local log=$1 ok f to
	ok=$(awk '/^Ok:/ {print $2}' "$log"); f=$(awk '/^Fail:/ {print $2}' "$log")
	to=$(awk '/^Timeout:/ {print $2}' "$log")
	tally "${ok:-0}" "$(( ${f:-0} + ${to:-0} ))"
	[ -n "$ok" ] || tally 0 1
}

step "unit tests"
meson test -C build --suite unit --print-errorlogs 2>&1 | tee /tmp/edge-unit.log
meson_counts /tmp/edge-unit.log

step "structure: the control plane's components depend on each other one way; the C follows .clang-format"
if scripts/check-deps.py build; then tally 1 0; else tally 0 1; fi
if scripts/check-format.sh; then tally 1 0; else tally 0 1; fi

step "unit tests under ASan+UBSan"
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ninja -C build-asan >/tmp/edge-asan-build.log 2>&1; then
	meson test -C build-asan --suite unit --print-errorlogs 2>&1 | tee /tmp/edge-asan.log
	meson_counts /tmp/edge-asan.log
else
	tail -30 /tmp/edge-asan-build.log
	tally 0 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# an integration script ends with "<name> tests: N passed, N failed" (or exits 77: skipped)
integration() {
	local name=$1 script=$2 rc p f
	step "$name integration tests"
	if [ -n "${EDGE_SKIP_LAB:-}" ]; then
		echo "skipped (EDGE_SKIP_LAB set)"; skipped=$((skipped + 1)); return
	fi
	"$script" 2>&1 | tee "/tmp/edge-$name.log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1)); return
	fi
	p=$(sed -n "s/^$name tests: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p" "/tmp/edge-$name.log")
	f=$(sed -n "s/^$name tests: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p" "/tmp/edge-$name.log")
	if [ -n "$p" ]; then tally "$p" "$f"; else tally 0 1; fi
	[ "$rc" = 0 ] || [ "${f:-1}" -gt 0 ] || tally 0 1
}
integration lab tests/integration/test_lab.sh
integration ipv6 tests/integration/test_ipv6.sh
integration turn tests/integration/test_turn.sh
integration edgeload tests/integration/test_edgeload.sh
integration turn-stream tests/integration/test_turn_stream.sh
integration firewall tests/integration/test_firewall.sh
integration observability tests/integration/test_observability.sh
integration webbridge tests/integration/test_webbridge.sh
WEBBRIDGE_TWO=1 integration webbridge-two tests/integration/test_webbridge.sh
integration security tests/integration/test_security.sh
integration faults tests/integration/test_faults.sh
integration soak tests/soak/soak.sh
integration package tests/package/test_package.sh

step "fuzzing the STUN codec, the TURN server, the REST API, the media port, SDP, the configuration file, the CLI and the frames an interface takes"
if [ -x scripts/fuzz.sh ]; then
	if scripts/fuzz.sh "${EDGE_FUZZ_SECONDS:-60}"; then tally 1 0; else tally 0 1; fi
else
	echo "no fuzz target yet"; skipped=$((skipped + 1))
fi

echo
if [ "$skipped" -gt 0 ]; then
	echo "tests: $pass passed, $fail failed, $skipped skipped"
else
	echo "tests: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
