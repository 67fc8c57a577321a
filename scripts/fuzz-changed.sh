#!/usr/bin/env bash
# Fuzzes the targets whose code changed: each fuzz target whose sources changed between
# <base-rev> (default HEAD~1, the previous commit) and HEAD runs for <seconds> (default 600)
# through scripts/fuzz.sh. A target's sources are what its build compiled into it, as ninja
# knows them: the C files of its objects (tests/fuzz/meson.build's files, and of the libraries
# it links the members the link took) and the headers they included (the deps log), its own
# tests/fuzz/fuzz_<name>.c, and its corpus tests/fuzz/corpus/<name>/. Prints each target
# picked and the changed files that picked it.
# Usage: scripts/fuzz-changed.sh [--keep-corpus|--list] [<base-rev> [<seconds>]]
#   --keep-corpus  merge what the runs found back into tests/fuzz/corpus/<name>, minimised
#   --list         only print the targets it would run, and why
# The build directory is $FUZZ_BUILD (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=() list=0
case ${1:-} in
--keep-corpus) keep=(--keep-corpus); shift ;;
--list) list=1; shift ;;
esac
base=${1:-HEAD~1}
secs=${2:-600}
build=${FUZZ_BUILD:-build-fuzz}
export FUZZ_BUILD=$build
git rev-parse --verify -q "$base^{commit}" >/dev/null || { echo "fuzz-changed: '$base': no such revision" >&2; exit 2; }
changed=$(git diff --name-only "$base" HEAD --)
if [ -z "$changed" ]; then
	echo "fuzz-changed: nothing changed between $base and HEAD"
	exit 0
fi

# Build every target first: the deps log knows a target's headers only once it is compiled.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ -f "$build/build.ninja" ]; then
	setup=(meson setup --reconfigure "$build" -Dfuzz=true)
else
	setup=(meson setup "$build" -Dfuzz=true)
fi
CC=clang "${setup[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }
mapfile -t targets < <(ls tests/fuzz/fuzz_*.c | sed -n 's|^tests/fuzz/\(fuzz_[a-z0-9_]*\)\.c$|\1|p' |
	while read -r t; do [ -d "tests/fuzz/corpus/${t#fuzz_}" ] && echo "$t"; done)
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >"$log" 2>&1 || { cat "$log"; exit 1; }

# The repository's files target $1 is made of, one a line, relative to the top: the sources
# and headers (ninja's deps log) of its objects, of a library's only those the link took (one
# that defines a symbol the executable defines), and its own .c.
sources() {
	local t=$1 exe="$build/tests/fuzz/$1" syms o
	syms=$(mktemp)
	nm --defined-only -g "$exe" | awk '{print $3}' | sort -u >"$syms"
	{
		ninja -C "$build" -t inputs "tests/fuzz/$t" | grep '\.o$' | while read -r o; do
			case $o in
			*.a.p/*) nm --defined-only -g "$build/$o" 2>/dev/null | awk '{print $3}' |
				grep -qFxf - "$syms" || continue ;;
			esac
			echo "$o"
		done | xargs -r ninja -C "$build" -t deps | grep '^ *\.\./' || true
		echo "tests/fuzz/$t.c"
	} | sed 's|^ *\.\./||' | sort -u
	rm -f "$syms"
}

picked=()
for t in "${targets[@]}"; do
	why=$(sources "$t" | grep -Fxf - <(echo "$changed") | head -3 | paste -sd, - || true)
	[ -n "$why" ] || why=$(echo "$changed" | grep "^tests/fuzz/corpus/${t#fuzz_}/" | head -1 || true)
	if [ -n "$why" ]; then
		echo "fuzz-changed: $t: $why changed"
		picked+=("$t")
	fi
done
if [ ${#picked[@]} -eq 0 ]; then
	echo "fuzz-changed: no fuzz target's code changed between $base and HEAD"
	exit 0
fi
[ "$list" = 0 ] || exit 0
exec scripts/fuzz.sh "${keep[@]}" "$secs" "${picked[@]}"
