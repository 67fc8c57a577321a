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
# metric <family> [<label>=<value> ...] -- <page> [<arg>]: a counter from the registry, as
# `edgectl --json <page> [<arg>]` gives it, summed over the samples whose labels match
# (empty when the family is not there): the tests read figures here, not from page text.
metric() {
	local want=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do want+=("$1"); shift; done
	shift
	ctl --json "$@" | python3 -c '
import json, sys
name, want = sys.argv[1], dict(w.split("=", 1) for w in sys.argv[2:])
for f in json.load(sys.stdin)["families"]:
    if f["name"] == name:
        s = [x for x in f["samples"] if all(x["labels"].get(k) == v for k, v in want.items())]
        v = sum(x.get("value", x.get("count", 0)) for x in s)
        print(int(v) if v == int(v) else v)
' "${want[@]}"
}
# stat_of <figure of the turn stats page>: TURN's figures, from the registry
stat_of() {
	case "$1" in
	"Allocations created") metric edge_turn_allocation_events_total event=created -- turn ;;
	"Allocations deleted") metric edge_turn_allocation_events_total event=deleted -- turn ;;
	"Allocations") metric edge_turn_allocations -- turn ;;
	"Authentication failures") metric edge_turn_auth_failures_total -- turn ;;
	"Forbidden peers") metric edge_turn_forbidden_peers_total -- turn ;;
	"Quota refusals") metric edge_turn_quota_refusals_total -- turn ;;
	"Guest refusals") metric edge_turn_guest_refusals_total -- turn ;;
	*) echo "stat_of: '$1': no such figure" >&2 ;;
	esac
}

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
