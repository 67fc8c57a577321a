# What the lab integration tests share (sourced, not run): paths, the ok/bad tally, edgectl,
# and the skip (exit 77) where namespaces cannot be made. Each test keeps its own cleanup.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
SOCK=/run/edge-lab/edged.sock
LAB=$ROOT/scripts/lab.sh
pass=0 fail=0

ok() { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }
ctl() { timeout 10 "$ROOT/build/edgectl" -s "$SOCK" "$@"; }

# require_netns <suite>: exits 77 unless we are root and may make network namespaces
require_netns() {
	if [ "$(id -u)" != 0 ] || ! ip netns add "edge-probe-$$" 2>/dev/null; then
		echo "$1 tests: skipped (need root and network namespaces)"
		exit 77
	fi
	ip netns del "edge-probe-$$"
}

# finish <suite>: the closing line scripts/test.sh reads, and the exit status
finish() {
	echo "$1 tests: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
