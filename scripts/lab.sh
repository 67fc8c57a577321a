#!/usr/bin/env bash
# The lab: the appliance on virtual ports, with an "internet" and an "internal" network,
# all inside network namespaces this script makes (nothing lands in the machine's own).
#
#   public (198.18.20.2) --veth-- [b] edged [a] --veth-- (198.18.10.2) internal
#                                   namespace "edge"
#
#   scripts/lab.sh up       set up, start edged, show it answering ping and its status
#   scripts/lab.sh down     stop what "up" started and remove what it made
#   scripts/lab.sh status   what is running
#   scripts/lab.sh restart  stop and start edged only (the namespaces stay)
#   scripts/lab.sh stop     stop edged only (the namespaces stay: another edged may use them)
#   scripts/lab.sh webrtc   set up webbridge3, webadmin and the callbridge with the guide's
#                           commands and space 9999, and say how a guest joins
# Only 198.18.0.0/15 addresses carry lab traffic, and 2001:db8::/32 for IPv6 (the
# appliance's a 2001:db8:10::1, b 2001:db8:20::1; the hosts ::2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN=${EDGE_LAB_RUN:-/run/edge-lab}
NS_EDGE=edge NS_PUB=public NS_INT=internal NS_CORE=core
EDGED=$ROOT/build/edged
EDGECTL=$ROOT/build/edgectl
CONF=$RUN/edged.conf
SOCK=$RUN/edged.sock

say() { printf 'lab: %s\n' "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo scripts/lab.sh $*): it makes namespaces and starts DPDK"

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
# Two appliances can run: "edged" (the lab's, namespace edge) and, with EDGE_LAB_TWO=1, "core"
# (namespace core: the callbridge and webadmin on a box of their own, as in the guide).
inst() {
	if [ "${1:-edged}" = core ]; then
		I_NAME=core I_NS=$NS_CORE I_CONF=$RUN/core.conf I_SOCK=$RUN/core.sock I_PID=$RUN/core.pid
		I_OUT=$RUN/core.out I_LOG=$RUN/core.log
	else
		I_NAME=edged I_NS=$NS_EDGE I_CONF=$CONF I_SOCK=$SOCK I_PID=$RUN/edged.pid
		I_OUT=$RUN/edged.out I_LOG=$RUN/edged.log
	fi
}
edged_pid() { inst "${1:-}"; [ -f "$I_PID" ] && cat "$I_PID" || true; }
edged_alive() {
	local pid; pid=$(edged_pid "${1:-}")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q edged "/proc/$pid/comm" 2>/dev/null
}

ctl() { "$EDGECTL" -s "$SOCK" "$@"; }

start_edged() {
	inst "${1:-}" # (edged_alive's own call is in a subshell)
	edged_alive "${1:-}" && { say "$I_NAME already running (pid $(edged_pid "${1:-}"))"; return 0; }
	inst "${1:-}"
	rm -f "$I_SOCK"
	ip netns exec "$I_NS" "$EDGED" -c "$I_CONF" >>"$I_OUT" 2>&1 &
	echo $! > "$I_PID"
	# wait (bounded) for its control socket
	for _ in $(seq 1 150); do
		if [ -S "$I_SOCK" ] && "$EDGECTL" -s "$I_SOCK" status >/dev/null 2>&1; then
			say "$I_NAME running (pid $(cat "$I_PID")), control socket $I_SOCK"
			return 0
		fi
		# the process, not its name: until `ip netns exec` has exec'd edged it is "ip"
		[ -d "/proc/$(cat "$I_PID")" ] || break
		sleep 0.2
	done
	tail -20 "$I_OUT" "$I_LOG" 2>/dev/null >&2 || true
	die "$I_NAME did not start (output above)"
}

stop_edged() {
	local pid; pid=$(edged_pid "${1:-}")
	if edged_alive "${1:-}"; then
		inst "${1:-}"
		kill -TERM "$pid"
		for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; say "$I_NAME killed (did not stop in 10 s)"; fi
		say "$I_NAME stopped"
	fi
	inst "${1:-}"
	rm -f "$I_PID"
}

mk_ns() {
	ns_exists "$1" && die "namespace '$1' exists already and is not the lab's: remove it or run 'lab.sh down'"
	ip netns add "$1"
	echo "$1" >> "$RUN/namespaces"
	ip -n "$1" link set lo up
}

# veth pair: $1 end in the appliance's namespace $4 (default edge; an edged port), $2 end in
# namespace $3
mk_link() {
	local NS_EDGE=${4:-$NS_EDGE}
	ip link add "$1" netns $NS_EDGE type veth peer name "$2" netns "$3"
	ip -n $NS_EDGE link set "$1" up
	ip -n "$3" link set "$2" up
	# the edge side speaks only through DPDK: no kernel addresses, no IPv6 chatter
	ip netns exec $NS_EDGE sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
	# ...and the kernel's own stack must not answer what arrives there, as it would for the
	# mirrors' addresses (weak host model). af_packet has its copy before these checks:
	# no ARP replies, and strict reverse-path filtering drops every IPv4 packet, since no
	# route points back out of a port's veth.
	ip netns exec $NS_EDGE sysctl -qw "net.ipv4.conf.$1.arp_ignore=8" "net.ipv4.conf.$1.rp_filter=1"
	ip -n $NS_EDGE link set "$1" arp off
	# veth leaves TCP/UDP checksums to "hardware": compute them, since DPDK is that hardware
	ip netns exec "$3" ethtool -K "$2" tx off >/dev/null 2>&1 || true
	ip netns exec $NS_EDGE ethtool -K "$1" tx off rx off >/dev/null 2>&1 || true
}

# A lab CA and certificates signed by it, made once per lab (clients trust lab-ca.pem):
#   lab.key, lab-fullchain.pem	the edge: TURN over TLS, webbridge3's HTTPS and C2W listener
#				(`turn certs lab.key lab-fullchain.pem`); names 198.18.20.1,
#				198.18.10.1 and edge.lab.example
#   core.key, core-fullchain.pem	the core: the callbridge's C2W client certificate and the
#				webadmin (198.18.10.1, and 198.18.10.3 for a core of its own; core.lab.example)
lab_cert() {	# <dir> <name> <CN> <subjectAltName> <extendedKeyUsage>
	local d=$1 n=$2
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n.key"
	openssl req -new -key "$d/$n.key" -subj "/CN=$3" -out "$d/$n.csr"
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=$5" "subjectAltName=$4" > "$d/$n.ext"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/lab-ca.pem" -CAkey "$d/lab-ca.key" -days 365 \
		-sha256 -set_serial "0x$(openssl rand -hex 8)" -extfile "$d/$n.ext" -out "$d/$n.pem"
	cat "$d/$n.pem" "$d/lab-ca.pem" > "$d/$n-fullchain.pem"
	rm -f "$d/$n.csr" "$d/$n.ext" "$d/$n.pem"
}

lab_certs() {
	local d=$RUN/certs
	# made again when an older lab's lack the IPv6 addresses
	[ -f "$d/lab-fullchain.pem" ] && [ -f "$d/core-fullchain.pem" ] &&
		openssl x509 -in "$d/lab-fullchain.pem" -noout -ext subjectAltName 2>/dev/null |
		grep -qi "2001:DB8:20:0:0:0:0:1" && return 0
	(
		set -e
		umask 077
		openssl ecparam -name prime256v1 -genkey -noout -out "$d/lab-ca.key"
		openssl req -x509 -new -key "$d/lab-ca.key" -sha256 -days 365 -subj "/CN=edge lab CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out "$d/lab-ca.pem"
		lab_cert "$d" lab edge.lab.example \
			"IP:198.18.20.1,IP:198.18.10.1,IP:2001:db8:20::1,IP:2001:db8:10::1,DNS:edge.lab.example" \
			"serverAuth,clientAuth"
		lab_cert "$d" core core.lab.example \
			"IP:198.18.10.1,IP:198.18.10.3,IP:2001:db8:10::1,DNS:core.lab.example" \
			"serverAuth,clientAuth"
		chmod 644 "$d/lab-ca.pem"
	) >/dev/null 2>&1 || say "could not make the lab certificates (openssl); TLS needs yours"
}

up() {
	QUIET_HUGEPAGES=${QUIET_HUGEPAGES:-} "$ROOT/scripts/setup.sh"
	mkdir -p "$RUN"
	mkdir -p -m 700 "$RUN/certs"	# mgmt.cert_dir in lab.conf: TLS keys and certificates
	lab_certs
	if [ -f "$RUN/namespaces" ]; then
		say "lab already up; restarting edged"
		start_edged
		[ -f "$RUN/core.conf" ] && start_edged core
	else
		: > "$RUN/namespaces"
		mk_ns $NS_EDGE; mk_ns $NS_PUB; mk_ns $NS_INT
		mk_link veth-a int0 $NS_INT
		mk_link veth-b pub0 $NS_PUB
		if [ -n "${EDGE_LAB_TWO:-}" ]; then
			# the core appliance (198.18.10.3) shares the internal network: a bridge there
			mk_ns $NS_CORE
			mk_link core-a core0 $NS_INT $NS_CORE
			ip -n $NS_INT link add br0 type bridge
			ip -n $NS_INT link set int0 master br0
			ip -n $NS_INT link set core0 master br0
			ip -n $NS_INT link set br0 up
			ip -n $NS_INT addr add 198.18.10.2/24 dev br0
			ip -n $NS_INT addr add 2001:db8:10::2/64 dev br0 nodad
		else
			ip -n $NS_INT addr add 198.18.10.2/24 dev int0
			ip -n $NS_INT addr add 2001:db8:10::2/64 dev int0 nodad
		fi
		ip -n $NS_PUB addr add 198.18.20.2/24 dev pub0
		ip -n $NS_PUB addr add 2001:db8:20::2/64 dev pub0 nodad
		ip -n $NS_INT route add 198.18.20.0/24 via 198.18.10.1
		ip -n $NS_PUB route add 198.18.10.0/24 via 198.18.20.1
		cp config/lab.conf "$CONF"
		local free; free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
		if [ "${free:-0}" -ge 160 ] && [ -z "${EDGE_LAB_NO_HUGE:-}" ]; then
			sed -i 's/^\(\s*hugepages = \)false;/\1true;/' "$CONF"
			say "DPDK memory: hugepages"
		else
			say "DPDK memory: --no-huge (no hugepages reserved)"
		fi
		if [ -n "${EDGE_LAB_TWO:-}" ]; then
			# two appliances as in the guide: this one is the edge, the core runs beside it
			sed -i 's/^role = "both";/role = "edge";/' "$CONF"
			cp config/lab-core.conf "$RUN/core.conf"
		fi
		start_edged
		[ -f "$RUN/core.conf" ] && start_edged core
	fi
	if [ -z "${EDGE_LAB_QUIET:-}" ]; then
		say "public host pings the appliance's public address (interface b):"
		ip netns exec $NS_PUB ping -c 3 -i 0.2 -W 2 198.18.20.1 || true
		say "internal host pings the appliance's internal address (interface a):"
		ip netns exec $NS_INT ping -c 3 -i 0.2 -W 2 198.18.10.1 || true
		say "edgectl status:"
		ctl status
		say "try: $EDGECTL -s $SOCK     (interactive; 'help' lists commands)"
	fi
}

down() {
	stop_edged core
	stop_edged
	if [ -f "$RUN/namespaces" ]; then
		while read -r ns; do
			[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
		done < "$RUN/namespaces"
		rm -f "$RUN/namespaces"
		say "namespaces removed"
	fi
	# the callbridge's database (spaces, webBridges) is the lab's too
	rm -f "$SOCK" "$CONF" "$RUN/edged.conf.tmp."* "$RUN"/callbridge.db* "$RUN"/core.* 2>/dev/null || true
}

status() {
	if [ -f "$RUN/namespaces" ]; then say "namespaces: $(tr '\n' ' ' < "$RUN/namespaces")"; else say "lab is down"; fi
	if edged_alive; then say "edged running (pid $(edged_pid))"; ctl status; else say "edged not running"; fi
	if edged_alive core; then say "core running (pid $(edged_pid core)), control socket $RUN/core.sock"; fi
}

# The guide's second half, in the lab: webbridge3 on b:445 (C2W on a:6000), the webadmin and
# REST API on a:443, the callbridge linked to webbridge3 over C2W, space 9999, the TURN server
# the browsers get. Idempotent enough to run twice (the API refuses a second space 9999).
webrtc() {
	edged_alive || die "edged is not running: lab.sh up first"
	local pw=${EDGE_LAB_ADMIN_PW:-edge-lab-admin} c
	ctl user add admin admin "$pw" >/dev/null 2>&1 || ctl user passwd admin "$pw" >/dev/null
	local secret=${EDGE_LAB_TURN_SECRET:-edge-lab-guest-secret}
	for c in "turn listen a b" "turn tls 447" "turn certs lab.key lab-fullchain.pem" \
		"turn shared-secret $secret" "turn enable" \
		"webbridge3 https certs lab.key lab-fullchain.pem" "webbridge3 https listen b:445" \
		"webbridge3 c2w certs lab.key lab-fullchain.pem" "webbridge3 c2w listen a:6000" \
		"webbridge3 c2w trust lab-ca.pem" "webbridge3 enable" \
		"webadmin listen a 443" "webadmin certs core.key core-fullchain.pem" "webadmin enable" \
		"callbridge listen a" "callbridge certs core.key core-fullchain.pem" \
		"callbridge trust c2w lab-ca.pem" "callbridge media a:10000"; do
		say "edgectl $c"
		ctl $c | sed 's/^/    /'
	done
	api() { ip netns exec $NS_INT curl -sS --cacert "$RUN/certs/lab-ca.pem" -u "admin:$pw" -o /dev/null \
		-w "    HTTP %{http_code}\n" "https://198.18.10.1:443$1" "${@:2}"; }
	# guests get TURN credentials of their own, made from the shared secret the TURN server
	# checks; the operator's password (turn credentials) is never handed to them
	say "API: space 9999, the web bridge c2w://198.18.10.1:6000, the TURN server for browsers"
	api /api/v1/coSpaces -d name=9999 -d uri=9999 -d callId=9999
	api /api/v1/webBridges --data-urlencode url=c2w://198.18.10.1:6000
	api /general -d turnServerAddress=198.18.10.1 -d turnClientAddress=198.18.20.1 \
		--data-urlencode "turnSharedSecret=$secret" --data-urlencode "turnSharedSecretConfirm=$secret"
	say "edgectl callbridge restart"
	ctl callbridge restart | sed 's/^/    /'
	sleep 2
	ctl webbridge3 connections | sed 's/^/    /'
	say "a guest joins 9999 as Thomas from headless Chromium in the public namespace:"
	say "  sudo ip netns exec public /usr/bin/python3 tests/integration/clients/browser_join.py \\"
	say "      --url https://198.18.20.1:445/ --ca $RUN/certs/lab-ca.pem --meeting 9999 --name Thomas --stay 10"
	say "  then: $EDGECTL -s $SOCK callbridge participants; ... log 60"
	say "REST API: curl --cacert $RUN/certs/lab-ca.pem -u admin:$pw https://198.18.10.1/api/v1/coSpaces (from the internal namespace)"
}

case "${1:-}" in
up) up ;;
webrtc) webrtc ;;
down) down ;;
status) status ;;
stop) stop_edged; if [ -f "$RUN/core.conf" ]; then stop_edged core; fi ;;
restart) stop_edged; start_edged; if [ -f "$RUN/core.conf" ]; then stop_edged core; start_edged core; fi ;;
*) echo "usage: $0 up|down|status|stop|restart|webrtc" >&2; exit 2 ;;
esac
