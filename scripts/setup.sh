#!/usr/bin/env bash
# Installs what the appliance needs (Debian 12 packages), reserves hugepages where the
# machine allows, and builds. Idempotent, and quiet when everything is already there.
#   scripts/setup.sh            packages + hugepages + build (./build)
#   scripts/setup.sh --no-build packages + hugepages only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	# build
	gcc make meson ninja-build pkg-config clang libclang-rt-14-dev
	# the formatting check (scripts/check-format.sh) and the dependency check (binutils nm)
	clang-format binutils
	# apt-get source, to build libsrtp2 against OpenSSL (build_libsrtp2_openssl)
	dpkg-dev
	# libraries
	libdpdk-dev liburcu-dev libconfig-dev libcunit1-dev libsrtp2-dev libssl-dev libedit-dev
	libmnl-dev zlib1g-dev libidn-dev libsqlite3-dev libcrypt-dev
	libwebsockets-dev libjansson-dev libjwt-dev
	# edged's readiness and watchdog under systemd (sd_notify); systemd-analyze for its unit
	libsystemd-dev systemd
	# lab and tests
	dpdk iproute2 iputils-ping ethtool netcat-openbsd procps psmisc coturn python3-aioice python3-aiortc
	openssl valgrind curl strace
	# promtool, to check the metrics exposition (tests/unit/test_metrics.c, test_turn.sh)
	prometheus
	# the guests' browser for the webbridge3 tests, driven by selenium; certutil for its CA
	chromium chromium-driver python3-selenium libnss3-tools
	# edgeload's plots (bench/edgeload/el_plot.py)
	python3-matplotlib
	# random loss on the guests' side in the media tests (the kernel here has no netem)
	nftables
	# the Debian package (scripts/build-deb.sh) and its test in a fresh Debian root
	# (tests/package/test_package.sh); sqlite3 reads the callbridge's database in tests
	debhelper fakeroot mmdebstrap sqlite3
)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "setup: run as root (sudo scripts/setup.sh): it installs packages and reserves hugepages" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# coturn's and prometheus's packages may start their own services; the tests start what
	# they need themselves
	for svc in coturn prometheus; do
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet $svc 2>/dev/null; then
			systemctl stop $svc || true
		fi
	done
fi

# libsrtp2 built against OpenSSL (issue 13): Debian's libsrtp2 uses NSS, ~6x slower per protect.
# Built from Debian's own source package into a private prefix that meson.build looks in first
# (option srtp_prefix); the static library keeps the binaries free of rpath/LD_LIBRARY_PATH.
SRTP_PREFIX=${SRTP_PREFIX:-/opt/edge-srtp}
SRTP_CACHE=/var/cache/edge/libsrtp2
build_libsrtp2_openssl() {
	if [ -f "$SRTP_PREFIX/lib/pkgconfig/libsrtp2.pc" ] && [ -f "$SRTP_PREFIX/lib/libsrtp2.a" ]; then
		[ "${QUIET_SRTP:-}" ] || say "libsrtp2 (OpenSSL): $SRTP_PREFIX"
		return 0
	fi
	local src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ] && grep -q '^Types:' "$src" && ! grep -q '^Types:.*deb-src' "$src"; then
		sed -i 's/^Types: *deb *$/Types: deb deb-src/' "$src"
	fi
	mkdir -p "$SRTP_CACHE"
	if ! ls -d "$SRTP_CACHE"/libsrtp2-*/ >/dev/null 2>&1; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		(cd "$SRTP_CACHE" && apt-get source -qq libsrtp2 >/dev/null 2>&1) ||
			{ echo "setup: apt-get source libsrtp2 failed" >&2; exit 1; }
	fi
	local dir; dir=$(ls -d "$SRTP_CACHE"/libsrtp2-*/ | head -n1)
	say "libsrtp2: building $(basename "$dir") with OpenSSL into $SRTP_PREFIX"
	rm -rf "$SRTP_CACHE/build"
	meson setup "$SRTP_CACHE/build" "$dir" --prefix="$SRTP_PREFIX" --libdir=lib \
		--buildtype=release -Dcrypto-library=openssl -Ddefault_library=static \
		-Dtests=disabled -Ddoc=disabled >"$SRTP_CACHE/build.log" 2>&1 &&
		ninja -C "$SRTP_CACHE/build" install >>"$SRTP_CACHE/build.log" 2>&1 ||
		{ cat "$SRTP_CACHE/build.log" >&2; echo "setup: libsrtp2 build failed" >&2; exit 1; }
}
build_libsrtp2_openssl

# Hugepages: 2 MB pages for DPDK. Ask for HUGEPAGES (default 256 = 512 MB) if fewer are
# reserved; the kernel may give fewer, or none in a container: DPDK then runs --no-huge.
want=${HUGEPAGES:-256}
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ]; then
	have=$(cat "$hp")
	if [ "$have" -lt "$want" ]; then
		echo "$want" > "$hp" 2>/dev/null || true
		have=$(cat "$hp")
	fi
	if [ "$have" -ge 128 ]; then
		mountpoint -q /dev/hugepages 2>/dev/null || { mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true; }
		[ "${QUIET_HUGEPAGES:-}" ] || say "hugepages: $have x 2 MB reserved"
	else
		say "hugepages: only $have x 2 MB could be reserved; DPDK will run with --no-huge"
	fi
else
	say "hugepages: not available on this machine; DPDK will run with --no-huge"
fi

if [ "${1:-}" != "--no-build" ]; then
	if [ ! -f build/build.ninja ]; then
		meson setup build >/dev/null || { echo "setup: meson setup failed (see build/meson-logs)" >&2; exit 1; }
	fi
	ninja -C build >/tmp/edge-build.log 2>&1 || { cat /tmp/edge-build.log >&2; echo "setup: build failed" >&2; exit 1; }
	say "built: build/edged build/edgectl"
fi
