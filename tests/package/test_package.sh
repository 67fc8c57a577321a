#!/usr/bin/env bash
# The Debian package (issue 19), as an operator meets it:
#   - built from the tree (scripts/build-deb.sh: dpkg-buildpackage -us -uc -b);
#   - installed with apt into a fresh Debian 12 root made by mmdebstrap from the machine's own
#     apt sources (the package registry, nothing else): the files where Debian expects them,
#     /etc's files as conffiles, the service's group made, the unit verified by
#     systemd-analyze;
#   - the installed edged, with the packaged configuration, started inside the lab's
#     namespaces: READY=1 on a notify socket of the test's own, a TURN user added with the
#     installed edgectl, traffic relayed through it, and a callbridge database of the old
#     schema migrated with every row kept;
#   - an upgrade to a newer version of the package: the changed configuration kept, the
#     database kept, edged starts again;
#   - a corrupt database: edged refuses to start, naming the file, with a non-zero exit;
#   - apt remove keeps configuration and data; apt purge removes them.
# Every mount is made inside a mount namespace of its own (unshare -m), so nothing is left
# mounted when the test ends however it ends. Exit 77 where namespaces cannot be made.
#   EDGE_DEB=<file.deb>	test this package instead of building one
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
EL=$ROOT/build/bench/edgeload/edgeload
NOTIFY_SINK=$ROOT/tests/integration/clients/notify_sink.py
R= W= EPID= SINK=

require_netns package
for t in mmdebstrap dpkg-deb sqlite3 systemd-analyze "$EL"; do
	command -v "$t" >/dev/null || { echo "package tests: $t missing (scripts/setup.sh)"; echo "package tests: 0 passed, 1 failed"; exit 1; }
done

cleanup() {
	[ -n "$EPID" ] && kill "$EPID" 2>/dev/null && sleep 1
	[ -n "$SINK" ] && kill "$SINK" 2>/dev/null
	"$LAB" down >/dev/null 2>&1 || true
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
W=$(mktemp -d /tmp/edge-package.XXXXXX)
R=$W/root

# in_root <command...>: runs in the fresh root, with /proc, /sys, /dev and /run/netns of this
# machine bound in a mount namespace of the command's own
in_root() {
	unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" &&
			exec chroot "$r" "$@"' sh "$R" "$@"
}
# apt_root <args>: apt-get in the root, never asking
apt_root() { in_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }
# the host's apt sources: the package registry this machine reaches
sources() {
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		echo /etc/apt/sources.list.d/debian.sources
	else
		echo /etc/apt/sources.list
	fi
}
status_of() { dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${db:Status-Status}' edge 2>/dev/null; }

echo "== the package, built from the tree"
if [ -n "${EDGE_DEB:-}" ]; then
	DEB=$EDGE_DEB
else
	t0=$(date +%s)
	if "$ROOT/scripts/build-deb.sh" "$W/deb" >"$W/build.out" 2>&1; then
		DEB=$(ls "$W"/deb/edge_*.deb 2>/dev/null | head -1)
	else
		DEB=
	fi
	[ -n "$DEB" ] && ok "dpkg-buildpackage -us -uc -b made $(basename "$DEB") in $(($(date +%s) - t0)) s" ||
		{ bad "the package did not build: $(tail -5 "$W/build.out")"; finish package; exit; }
fi
VER=$(dpkg-deb -f "$DEB" Version)

echo "== installed with apt into a fresh Debian 12 root"
t0=$(date +%s)
if timeout 600 mmdebstrap --variant=apt --include=systemd --quiet bookworm "$R" "$(sources)" >"$W/mmdebstrap.out" 2>&1; then
	ok "a fresh Debian 12 root from the package registry (mmdebstrap, $(($(date +%s) - t0)) s)"
else
	bad "mmdebstrap: $(tail -3 "$W/mmdebstrap.out")"
	finish package
	exit
fi
cp "$DEB" "$R/tmp/edge.deb"
# apt and dpkg in the root see no /proc, /sys or /dev of this machine: a maintainer script
# cannot change the host (the hugepage sysctl above all)
apt_root() {
	chroot "$R" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 \
		-o DPkg::Path=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# What the maintainer scripts ask of systemd, seen as on a machine where it runs: the
# directory that says so, and systemctl and deb-systemd-invoke that write down each call
# (first in the PATH dpkg gives the scripts); systemctl's work on unit files (preset,
# enable: links in /etc/systemd/system, with --root) is done by the real one
mkdir -p "$R/run/systemd/system"
printf '#!/bin/sh\necho "deb-systemd-invoke $*" >>/var/log/systemd-calls\n' >"$R/usr/local/sbin/deb-systemd-invoke"
printf '#!/bin/sh\necho "systemctl $*" >>/var/log/systemd-calls\ncase " $* " in *" --root="*) exec /usr/bin/systemctl "$@" ;; esac\n' \
	>"$R/usr/local/sbin/systemctl"
chmod 755 "$R/usr/local/sbin/deb-systemd-invoke" "$R/usr/local/sbin/systemctl"
SYSTEMD_LOG=$R/var/log/systemd-calls
: >"$SYSTEMD_LOG"
# calls <since line>: the service's start, stop and restart asked since then
calls() { tail -n +"$(($1 + 1))" "$SYSTEMD_LOG" | grep "^deb-systemd-invoke" | grep "edged.service" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'; }
t0=$(date +%s)
apt_root update >"$W/apt.out" 2>&1
if apt_root install /tmp/edge.deb >>"$W/apt.out" 2>&1 && [ "$(status_of)" = installed ]; then
	ok "apt-get install of the package and its dependencies ($(($(date +%s) - t0)) s, $(grep -c '^Setting up' "$W/apt.out") packages set up)"
else
	bad "apt-get install: $(grep -i -m3 'error\|depends\|unmet' "$W/apt.out") $(tail -3 "$W/apt.out")"
	finish package
	exit
fi
missing=
for f in /usr/sbin/edged /usr/bin/edgectl /usr/bin/edgeload /usr/share/edge/webapp/index.html \
	/usr/share/edge/webapp/app.js /usr/share/man/man8/edged.8.gz /usr/share/man/man8/edgectl.8.gz \
	/usr/share/man/man1/edgeload.1.gz /lib/systemd/system/edged.service /etc/edge/edged.conf \
	/etc/sysctl.d/60-edge-hugepages.conf; do
	[ -e "$R$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "the files where Debian puts them: /usr/sbin/edged, /usr/bin/edgectl and edgeload, the web app in /usr/share/edge, man pages, the unit, /etc/edge/edged.conf" ||
	bad "missing from the installed package:$missing"
conff=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Conffiles}' edge)
grep -q " /etc/edge/edged.conf " <<<"$conff " && grep -q " /etc/sysctl.d/60-edge-hugepages.conf " <<<"$conff " &&
	ok "conffiles: /etc/edge/edged.conf and the hugepage sysctl drop-in" || bad "conffiles: '$conff'"
chroot "$R" getent group edge >/dev/null && ok "postinst made the service's group: $(chroot "$R" getent group edge)" ||
	bad "no group edge in the root"
nf=$(chroot "$R" ldd /usr/sbin/edged /usr/bin/edgectl /usr/bin/edgeload 2>&1 | grep -c "not found")
[ "$nf" = 0 ] && ok "every shared library of edged, edgectl and edgeload is there (the package's dependencies are declared)" ||
	bad "libraries not found: $(chroot "$R" ldd /usr/sbin/edged 2>&1 | grep 'not found' | head -3)"
# the unit as installed, its ExecStart= in the root; the manual pages it names are checked
# below (this machine's man does not look in the root)
sa=$(systemd-analyze --root="$R" verify --man=no edged.service 2>&1)
[ -z "$sa" ] && ok "systemd-analyze verify: the installed unit is clean" || bad "systemd-analyze verify: $sa"
mw=
for m in man8/edged.8 man8/edgectl.8 man1/edgeload.1; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$R/usr/share/man/$m.gz" 2>&1 >"$W/man.txt")
	{ [ -z "$w" ] && grep -q "^NAME" "$W/man.txt" && grep -q "^SYNOPSIS" "$W/man.txt"; } || mw="$mw $m: ${w:-no NAME or SYNOPSIS}"
done
[ -z "$mw" ] && ok "the manual pages edged(8), edgectl(8) and edgeload(1) render without a warning" || bad "manual pages:$mw"
[ -L "$R/etc/systemd/system/multi-user.target.wants/edged.service" ] && [ "$(calls 0)" = start ] &&
	ok "the service enabled (multi-user.target wants it) and started by postinst" ||
	bad "enabling and starting the service: calls '$(calls 0)', $(ls "$R/etc/systemd/system/multi-user.target.wants" 2>&1)"
[ -d "$R/var/lib/edge" ] && [ "$(stat -c %a "$R/var/lib/edge/certs")" = 700 ] &&
	ok "postinst made /var/lib/edge and its certs/ (0700) for keys and the database" ||
	bad "state directories: $(ls -ld "$R/var/lib/edge" "$R/var/lib/edge/certs" 2>&1 | tr '\n' ' ')"

echo "== the installed edged, with the packaged configuration, in the lab's namespaces"
# the lab's namespaces and veths, without the lab's own edged
{ EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up && "$LAB" stop; } >"$W/lab.out" 2>&1 ||
	{ bad "the lab: $(tail -3 "$W/lab.out")"; finish package; exit; }
# start_root_edged <log>: the root's edged in namespace edge, as systemd would start it: its
# runtime directory made, NOTIFY_SOCKET set (a sink of the test's own in the root's /run)
start_root_edged() {
	mkdir -p "$R/run/edge" "$R/run/notify"
	: >"$W/notify.log"
	timeout 300 python3 "$NOTIFY_SINK" "$R/run/notify/sock" "$W/notify.log" --max 240 &
	SINK=$!
	for _ in $(seq 50); do [ -S "$R/run/notify/sock" ] && break; sleep 0.1; done
	ip netns exec edge unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" &&
			exec chroot "$r" "$@"' sh "$R" env NOTIFY_SOCKET=/run/notify/sock WATCHDOG_USEC=10000000 \
		/usr/sbin/edged -c /etc/edge/edged.conf >"$W/$1" 2>&1 &
	EPID=$!
}
# stop_root_edged: SIGTERM, as systemd stops it; its exit status
stop_root_edged() {
	local rc
	kill -TERM "$EPID" 2>/dev/null
	for _ in $(seq 150); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$EPID" 2>/dev/null
	wait "$EPID"
	rc=$?
	EPID=
	kill "$SINK" 2>/dev/null
	wait "$SINK" 2>/dev/null
	SINK=
	return $rc
}
wait_ready() { local i; for i in $(seq 600); do grep -q "READY=1" "$W/notify.log" && return 0; kill -0 "$EPID" 2>/dev/null || return 1; sleep 0.1; done; return 1; }
rctl() { timeout 10 chroot "$R" /usr/bin/edgectl -s /run/edge/edged.sock "$@"; }
# relay <port> <name>: 10 allocations relaying audio for 3 s through the root's edged; 0 when
# every one allocated and nothing was lost
relay() {
	timeout 60 "$EL" --backend sock --client-netns public --peer-netns internal --quiet \
		--server 198.18.20.1:3478 --user pkguser --password pkg-pw --clients 10 \
		--client-ip 198.18.20.2 --peer-ip 198.18.10.2 --pattern audio --duration 3 \
		--peer-port "$1" --json "$W/$2.json" >"$W/$2.out" 2>&1 &&
		python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["allocate"]["ok"] == 10 and d["traffic"]["lost"] == 0 and d["traffic"]["sent"] > 1000))' "$W/$2.json"
}
# the callbridge's database as the version before migrations made it, with rows in every table
DB=$R/var/lib/edge/callbridge.db
sqlite3 "$DB" <"$ROOT/tests/unit/fixtures/db/v1.sql" >/dev/null || bad "the old-schema fixture did not load"
rows0=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM coSpaces) || ' ' || (SELECT count(*) FROM webBridges)")
start_root_edged edged.out
if wait_ready; then
	ok "READY=1 on the notify socket once the ports are up ($(grep -m1 READY "$W/notify.log" | cut -c1-80))"
else
	bad "the installed edged never said READY=1: $(tail -5 "$W/edged.out")"
fi
out=$({ rctl turn credentials pkguser pkg-pw lab.example && rctl turn peers allow 198.18.0.0/15 &&
	rctl turn listen a b && rctl turn enable; } 2>&1)
[ $? = 0 ] && ok "the installed edgectl, on /run/edge/edged.sock: a TURN user, the lab's peers allowed, TURN enabled" ||
	bad "edgectl in the root: $out"
grep -q pkguser "$R/etc/edge/edged.conf" && ok "the change is saved in /etc/edge/edged.conf" || bad "/etc/edge/edged.conf has no pkguser"
relay 42000 relay1 && ok "TURN relays through the installed edged: $(grep -m1 'relayed' "$W/relay1.out" | sed 's/^ *//')" ||
	bad "relaying through the installed edged: $(tail -4 "$W/relay1.out")"
rows1=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM coSpaces) || ' ' || (SELECT count(*) FROM webBridges)")
uv=$(sqlite3 "$DB" "PRAGMA user_version")
[ "$rows1" = "$rows0" ] && [ "${uv:-0}" -gt 1 ] && [ -f "$DB.pre-v1" ] &&
	ok "the callbridge's database of schema 1 migrated to $uv, every row kept (coSpaces and webBridges: $rows1), the old file kept as callbridge.db.pre-v1" ||
	bad "the database: rows '$rows0' -> '$rows1', version $uv, $(ls "$R/var/lib/edge")"
stop_root_edged && grep -q "STOPPING=1" "$W/notify.log" && ok "SIGTERM: STOPPING=1, exit 0" ||
	bad "stopping the installed edged: $(tail -3 "$W/edged.out")"

echo "== an upgrade to a newer package"
# the same package as a newer version, as the next release would come: dpkg must keep the
# configuration the operator (here edgectl) changed, the data, and start the service again
rm -rf "$W/v2" && dpkg-deb -R "$DEB" "$W/v2" &&
	sed -i "s/^Version: .*/Version: $VER+upgrade1/" "$W/v2/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$W/v2" "$R/tmp/edge-new.deb" >/dev/null ||
	bad "could not make the newer package"
# a key and certificate as an operator puts them (turn certs ... names them in certs/)
openssl ecparam -name prime256v1 -genkey -noout -out "$R/var/lib/edge/certs/edge.key" 2>/dev/null &&
	openssl req -x509 -new -key "$R/var/lib/edge/certs/edge.key" -subj "/CN=edge.lab.example" -days 2 \
		-out "$R/var/lib/edge/certs/edge.pem" 2>/dev/null || bad "could not make a certificate"
csum0=$(cat "$R"/var/lib/edge/certs/edge.* | sha256sum)
sum0=$(sha256sum <"$R/etc/edge/edged.conf")
n0=$(wc -l <"$SYSTEMD_LOG")
if apt_root install /tmp/edge-new.deb >"$W/upgrade.out" 2>&1 && [ "$(status_of)" = installed ] &&
	[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Version}' edge)" = "$VER+upgrade1" ]; then
	ok "apt-get install of $VER+upgrade1 over $VER"
else
	bad "the upgrade: $(tail -4 "$W/upgrade.out")"
fi
sum1=$(sha256sum <"$R/etc/edge/edged.conf")
[ "$(calls "$n0")" = restart ] && ok "the upgrade restarted the service once (and did not stop it first)" ||
	bad "the upgrade asked systemd: '$(calls "$n0")' (restart, once, expected)"
[ "$sum0" = "$sum1" ] && ! ls "$R"/etc/edge/*.dpkg-* >/dev/null 2>&1 &&
	ok "the changed /etc/edge/edged.conf kept as it was (no prompt, no .dpkg-new)" ||
	bad "the configuration after the upgrade: changed $([ "$sum0" = "$sum1" ] && echo no || echo yes); $(ls "$R/etc/edge")"
[ "$(cat "$R"/var/lib/edge/certs/edge.* 2>/dev/null | sha256sum)" = "$csum0" ] &&
	ok "the key and certificate in /var/lib/edge/certs kept" || bad "certificates after the upgrade: $(ls -l "$R/var/lib/edge/certs")"
start_root_edged edged2.out
wait_ready && relay 42100 relay2 && [ "$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM coSpaces) || ' ' || (SELECT count(*) FROM webBridges)")" = "$rows0" ] &&
	ok "after the upgrade edged starts, TURN relays with the user made before it, and the spaces are there" ||
	bad "after the upgrade: $(tail -3 "$W/edged2.out") $(tail -2 "$W/relay2.out" 2>/dev/null)"
stop_root_edged

echo "== a corrupt database"
cp "$DB" "$W/db.good"
rm -f "$DB-wal" "$DB-shm"
head -c 4096 /dev/zero | tr '\0' 'x' >"$DB"
start_root_edged edged3.out
for _ in $(seq 300); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$EPID" 2>/dev/null; then
	bad "edged runs on a corrupt database"
	stop_root_edged
else
	wait "$EPID"
	rc=$?
	EPID=
	kill "$SINK" 2>/dev/null
	SINK=
	msg=$(grep -m1 "callbridge.db" "$W/edged3.out")
	[ $rc = 4 ] && [ -n "$msg" ] && ! grep -q "READY=1" "$W/notify.log" &&
		ok "edged refuses to start (exit 4, which edged.service does not restart; never READY): $msg" || bad "a corrupt database: exit $rc, '$(tail -3 "$W/edged3.out")'"
fi
cp "$W/db.good" "$DB"

echo "== removal"
n0=$(wc -l <"$SYSTEMD_LOG")
apt_root remove edge >"$W/remove.out" 2>&1
[ "$(calls "$n0")" = stop ] && ok "apt-get remove stopped the service" || bad "apt-get remove asked systemd: '$(calls "$n0")'"
[ "$(status_of)" = config-files ] && [ ! -e "$R/usr/sbin/edged" ] && [ -f "$R/etc/edge/edged.conf" ] && [ -f "$DB" ] &&
	[ "$(cat "$R"/var/lib/edge/certs/edge.* 2>/dev/null | sha256sum)" = "$csum0" ] &&
	ok "apt-get remove: the programs gone, /etc/edge/edged.conf, the certificates and the callbridge's database left" ||
	bad "apt-get remove: status $(status_of), $(ls "$R/etc/edge" "$R/var/lib/edge" 2>&1 | tr '\n' ' ')"
apt_root purge edge >"$W/purge.out" 2>&1
[ -z "$(status_of)" ] || [ "$(status_of)" = not-installed ]
purged=$?
[ $purged = 0 ] && [ ! -e "$R/etc/edge" ] && [ ! -e "$R/var/lib/edge" ] && [ ! -e "$R/etc/sysctl.d/60-edge-hugepages.conf" ] &&
	ok "apt-get purge: configuration and data removed" ||
	bad "apt-get purge: status '$(status_of)', left: $(ls -d "$R/etc/edge" "$R/var/lib/edge" "$R/etc/sysctl.d/60-edge-hugepages.conf" 2>/dev/null)"

finish package
