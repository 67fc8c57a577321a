#!/usr/bin/env bash
# Builds the Debian package (debian/) from this tree:
#   scripts/build-deb.sh [<outdir>]     default <outdir>: build-deb/ in the tree
# The tree as it is now (committed or not, without build directories and what .gitignore
# leaves out) is copied to a temporary directory and built there with
# `dpkg-buildpackage -us -uc -b`, so the checkout is never written to; the .deb (and the
# -dbgsym .ddeb, .buildinfo, .changes) land in <outdir>, the build's output in
# <outdir>/build.log. Missing build dependencies are installed with apt-get (as root).
# Prints the path of each .deb; exits non-zero, saying why, when anything fails.
#   EDGE_DEB_TIMEOUT  bound of the build in seconds (default 3600)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:-$ROOT/build-deb}
TIMEOUT=${EDGE_DEB_TIMEOUT:-3600}
TMP=

say() { printf 'build-deb: %s\n' "$*" >&2; }
die() {
	printf 'build-deb: %s\n' "$*" >&2
	exit 1
}
cleanup() { [ -n "$TMP" ] && rm -rf "$TMP"; }
trap cleanup EXIT

if [ ! -f debian/control ] || [ ! -f debian/changelog ]; then
	die "no debian/control or debian/changelog in $ROOT"
fi
mkdir -p "$OUT" || die "cannot make $OUT"
OUT=$(cd "$OUT" && pwd)

APT_UPDATED=
apt_install() {
	[ "$(id -u)" = 0 ] || die "missing: $* (run as root to install them, or: apt-get install $*)"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$APT_UPDATED" ]; then
		timeout 600 apt-get update -qq >/dev/null || die "apt-get update failed"
		APT_UPDATED=1
	fi
	say "installing $*"
	timeout 1800 apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		die "apt-get install $* failed"
}

# the tools first: dpkg-buildpackage and dpkg-checkbuilddeps (dpkg-dev), dh (debhelper)
tools=()
for t in dpkg-buildpackage:dpkg-dev dh:debhelper fakeroot:fakeroot; do
	command -v "${t%%:*}" >/dev/null || tools+=("${t##*:}")
done
[ ${#tools[@]} -eq 0 ] || apt_install "${tools[@]}"

# the copy: what git tracks and what it does not ignore, as it is in the working tree
VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
UPSTREAM=${VERSION%-*}
TMP=$(mktemp -d /tmp/edge-deb.XXXXXX)
SRC=$TMP/edge-$UPSTREAM
mkdir "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z -c -o --exclude-standard |
		tar -C "$ROOT" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$SRC" -xf - ||
		die "cannot copy the tree to $SRC"
else
	tar -C "$ROOT" --exclude='./build*' --exclude=./.git --exclude='./debian/build' \
		--exclude='./debian/edge' -cf - . | tar -C "$SRC" -xf - ||
		die "cannot copy the tree to $SRC"
fi
[ -x "$SRC/debian/rules" ] || die "the copy has no executable debian/rules"

# the build dependencies debian/control names
if ! missing=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1); then
	deps=$(printf '%s\n' "$missing" | sed -n 's/.*Unmet build dependencies: //p' |
		sed -E 's/\([^)]*\)//g; s/\[[^]]*\]//g; s/<[^>]*>//g; s/ *\| *[^ ]+//g')
	[ -n "$deps" ] || die "dpkg-checkbuilddeps: $missing"
	# shellcheck disable=SC2086 # one word per package
	apt_install $deps
fi

say "building $VERSION in $SRC (log: $OUT/build.log)"
t0=$(date +%s)
if ! (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" timeout "$TIMEOUT" \
	dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed after $(($(date +%s) - t0)) s (full output: $OUT/build.log)"
fi
shopt -s nullglob
debs=("$TMP"/*.deb)
[ ${#debs[@]} -gt 0 ] || die "dpkg-buildpackage made no .deb (output: $OUT/build.log)"
cp -f "$TMP"/*.deb "$TMP"/*.ddeb "$TMP"/*.buildinfo "$TMP"/*.changes "$OUT"/ ||
	die "cannot copy the packages to $OUT"
say "built in $(($(date +%s) - t0)) s"
for d in "${debs[@]}"; do
	echo "$OUT/$(basename "$d")"
done
