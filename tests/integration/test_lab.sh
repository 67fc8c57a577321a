#!/usr/bin/env bash
# Integration tests in the lab (root): the appliance on af_packet ports in namespaces, driven
# the way an operator would — ping, ARP, a TCP connection through the exception path,
# edgectl changes applied live and surviving a restart, bad commands changing nothing.
# Traffic stays on 198.18.0.0/15 inside the namespaces that scripts/lab.sh makes and removes.
# Exit 77 (skip) where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
RUN=/run/edge-lab

check() { local what=$1; shift; if "$@" >/tmp/edge-it.out 2>&1; then ok "$what"; else bad "$what"; sed 's/^/        /' /tmp/edge-it.out | tail -15; fi; }
check_not() { local what=$1; shift; if "$@" >/tmp/edge-it.out 2>&1; then bad "$what"; sed 's/^/        /' /tmp/edge-it.out | tail -15; else ok "$what"; fi; }
in_pub() { timeout 20 ip netns exec public "$@"; }
in_int() { timeout 20 ip netns exec internal "$@"; }
in_edge() { timeout 20 ip netns exec edge "$@"; }
# an interface's figure, from the registry (metric, lib.sh)
counter() {
	case "$2" in
	"ICMP echo replies") metric edge_interface_icmp_echo_replies_total -- iface "$1" ;;
	"RX packets") metric edge_interface_rx_packets_total -- iface "$1" ;;
	*) echo "counter: '$2': no such figure" >&2 ;;
	esac
}

require_netns lab

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
echo "lab: bringing up"
if ! EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up; then
	echo "0 passed, 1 failed"
	exit 1
fi

echo "ping and ARP"
check "public host pings interface b (198.18.20.1)" in_pub ping -c 3 -i 0.2 -W 2 198.18.20.1
check "internal host pings interface a (198.18.10.1)" in_int ping -c 3 -i 0.2 -W 2 198.18.10.1
check_not "interface a's address does not answer on b (strong host model)" in_pub ping -c 2 -i 0.2 -W 1 198.18.10.1
mac_b=$(ctl iface b | awk '/MAC address/ {print tolower($4)}')
check "public host resolved b's address to port b's MAC ($mac_b)" \
	sh -c "ip -n public neigh show 198.18.20.1 | grep -qi '$mac_b'"
pub_mac=$(ip -n public link show pub0 | awk '/link\/ether/ {print $2}')
check "the data plane learnt the public host from its ARP request" \
	sh -c "'$ROOT/build/edgectl' -s $SOCK arp | grep -E '^198\.18\.20\.2 ' | grep -qi '$pub_mac'"
check "large echo requests (1472 bytes) are answered" in_pub ping -c 2 -i 0.2 -W 2 -s 1472 198.18.20.1

echo "ARP resolution by the appliance itself"
ip -n internal addr add 198.18.10.3/24 dev int0	# a host that never spoke to the appliance
int_mac=$(ip -n internal link show int0 | awk '/link\/ether/ {print $2}')
check_not "198.18.10.3 is not in the neighbour table yet" \
	sh -c "'$ROOT/build/edgectl' -s $SOCK arp | grep -q '^198\.18\.10\.3 '"
check "edgectl ping 198.18.10.3: the data plane resolves it by ARP and gets replies" ctl ping 198.18.10.3 2
check "the neighbour table now holds 198.18.10.3 at the internal host's MAC" \
	sh -c "'$ROOT/build/edgectl' -s $SOCK arp | grep -E '^198\.18\.10\.3 ' | grep -qi '$int_mac'"
check_not "edgectl ping to a silent address fails" ctl ping 198.18.10.77 1

echo "counters move while a namespace pings"
before=$(counter b "ICMP echo replies")
in_pub ping -c 20 -i 0.05 -W 2 198.18.20.1 >/dev/null 2>&1
after=$(counter b "ICMP echo replies")
if [ -n "$before" ] && [ -n "$after" ] && [ "$((after - before))" -ge 20 ]; then ok "ICMP echo replies on b went $before -> $after"; else bad "ICMP echo replies on b went '$before' -> '$after'"; fi
rx=$(counter b "RX packets")
check "status page shows interface b with RX packets ($rx)" sh -c "[ '${rx:-0}' -gt 20 ]"

echo "exception path: TCP to the kernel mirror"
( in_edge nc -l 198.18.20.1 8022 > /tmp/edge-it.tcp 2>&1 & echo $! > /tmp/edge-it.nc.pid ) ; sleep 0.5
echo "through-the-data-plane" | in_pub nc -q 1 -w 5 198.18.20.1 8022 >/dev/null 2>&1
sleep 0.3
kill "$(cat /tmp/edge-it.nc.pid)" 2>/dev/null || true
check "a TCP connection from the public host reaches a listener on b" grep -q through-the-data-plane /tmp/edge-it.tcp
( in_edge nc -l 198.18.10.1 8023 > /tmp/edge-it.tcp 2>&1 & echo $! > /tmp/edge-it.nc.pid ) ; sleep 0.5
echo "internal-side" | in_int nc -q 1 -w 5 198.18.10.1 8023 >/dev/null 2>&1
sleep 0.3
kill "$(cat /tmp/edge-it.nc.pid)" 2>/dev/null || true
check "a TCP connection from the internal host reaches a listener on a" grep -q internal-side /tmp/edge-it.tcp
check "the kernel mirror resolved the public host by ARP through the data plane" \
	sh -c "ip -n edge neigh show 198.18.20.2 | grep -qi '$pub_mac'"
( in_edge sh -c 'printf "from-the-appliance\n" | nc -l 198.18.20.1 8024' & ) ; sleep 0.5
check "the appliance's answer comes back out (TCP both ways)" \
	sh -c "timeout 5 ip netns exec public nc -w 3 198.18.20.1 8024 </dev/null | grep -q from-the-appliance"

echo "edgectl: live changes"
cfg_sum=$(md5sum < $RUN/edged.conf)
check "edgectl ipv4 a add 198.18.10.9/24 198.18.10.2" ctl ipv4 a add 198.18.10.9/24 198.18.10.2
check "the new address answers at once" in_int ping -c 2 -i 0.2 -W 2 198.18.10.9
check "the change is written back to the configuration file" grep -q 198.18.10.9/24 $RUN/edged.conf
check "ipv4 a shows it" sh -c "'$ROOT/build/edgectl' -s $SOCK ipv4 a | grep -q '198.18.10.9/24'"
check "the kernel mirror holds it too" sh -c "ip -n edge addr show edge-a | grep -q 198.18.10.9/24"

echo "edgectl: bad commands change nothing"
cfg_sum=$(md5sum < $RUN/edged.conf)
out=$(ctl ipv4 a add 198.18.10.10/33 198.18.10.2 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "'198.18.10.10/33'"; then ok "bad prefix refused, naming the word: $out"; else bad "bad prefix: rc=$rc: $out"; fi
out=$(ctl ipv4 q add 198.18.10.10/24 198.18.10.2 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "'q'"; then ok "unknown interface refused: $out"; else bad "unknown interface: rc=$rc: $out"; fi
out=$(ctl frobnicate 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "'frobnicate'"; then ok "unknown command refused: $out"; else bad "unknown command: rc=$rc: $out"; fi
check "the configuration file is unchanged" sh -c "[ '$(md5sum < $RUN/edged.conf)' = '$cfg_sum' ]"

echo "edgectl hardware: what the box has for the data plane, and the fix for each lack"
out=$(ctl hardware 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q '^CPU  *: .*, [0-9]* CPUs$' <<<"$out" && grep -q '^Hugepages' <<<"$out" &&
	grep -qE '^IOMMU  *: (on|off)' <<<"$out" && grep -qE '^Ethernet NICs  *: [0-9]+$' <<<"$out" &&
	grep -qE '^Ready for the data plane  : (yes|no \(see the fixes above\))$' <<<"$out"; then
	ok "hardware: CPU, hugepages, IOMMU, NICs and a verdict ($(grep -E '^(IOMMU|Ethernet NICs|Ready)' <<<"$out" | sed 's/  */ /g' | paste -sd';'))"
else
	bad "hardware: rc=$rc: $(head -c 600 <<<"$out")"
fi
# no IOMMU here (a VM without one): said, with its fix
if grep -q '^IOMMU  *: on' <<<"$out" || grep -q 'fix: intel_iommu=on iommu=pt' <<<"$out"; then
	ok "hardware: the IOMMU's state, and its fix when it is off"
else
	bad "hardware: IOMMU off without its fix: $(grep -A1 '^IOMMU' <<<"$out")"
fi
out=$(ctl hardware now 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q "'now'" <<<"$out"; then ok "hardware: a stray word refused, named: $out"; else bad "hardware now: rc=$rc: $out"; fi
check_not "nothing answers on the refused address" in_int ping -c 1 -W 1 198.18.10.10
check "interface a still answers" in_int ping -c 1 -W 2 198.18.10.1

echo "restart keeps the change"
check "edged stops on SIGTERM and starts again" "$LAB" restart
check "198.18.10.9 answers after the restart" in_int ping -c 2 -i 0.2 -W 2 198.18.10.9
check "edgectl ipv4 a del 198.18.10.9" ctl ipv4 a del 198.18.10.9
check_not "the deleted address stops answering" in_int ping -c 2 -i 0.2 -W 1 198.18.10.9
check "the kernel mirror dropped it too" sh -c "! ip -n edge addr show edge-a | grep -q 198.18.10.9"

echo "edgectl one-shot and scripted"
check "edgectl status" ctl status
check "edgectl log shows the change" sh -c "'$ROOT/build/edgectl' -s $SOCK log 100 | grep -q 'configuration changed: ipv4 a del 198.18.10.9'"
check "commands on standard input" sh -c "printf 'ipv4 b\nhelp\n' | '$ROOT/build/edgectl' -s $SOCK | grep -q 'Default route           : yes'"

echo "systemd: readiness and the watchdog (a notify socket of the test's own)"
NOTIFY=$(mktemp -d /tmp/edge-notify.XXXXXX)
python3 "$ROOT/tests/integration/clients/notify_sink.py" "$NOTIFY/sock" "$NOTIFY/log" --max 120 &
SINK=$!
for _ in $(seq 1 50); do [ -S "$NOTIFY/sock" ] && break; sleep 0.1; done
# edged as systemd starts it: NOTIFY_SOCKET, and a 2 s WatchdogSec (fed every second)
check "edged restarts under a notify socket" env NOTIFY_SOCKET="$NOTIFY/sock" WATCHDOG_USEC=2000000 "$LAB" restart
for _ in $(seq 1 100); do grep -q "READY=1" "$NOTIFY/log" 2>/dev/null && break; sleep 0.1; done
check "READY=1 once the ports are up and the control socket listens" grep -q "READY=1|STATUS=2 interfaces" "$NOTIFY/log"
sleep 3
n=$(grep -c "WATCHDOG=1" "$NOTIFY/log")
check "the watchdog is fed about every second ($n in 3 s)" test "$n" -ge 2
check_not "debug stall: a bad word is refused" ctl debug stall 99
t0=$(awk 'END {print $1}' "$NOTIFY/log")
check "debug stall 4: the control loop blocks" ctl debug stall 4
sleep 1.5
# the longest silence between two notify messages, from the last one before the stall
gap=$(awk -v t0="$t0" 'BEGIN {p = t0} /WATCHDOG=1/ && $1 > t0 {g = $1 - p; if (g > m) m = g; p = $1} END {printf "%.1f", m}' "$NOTIFY/log")
check "no watchdog while stalled (systemd would restart it): ${gap} s of silence" awk -v g="$gap" 'BEGIN {exit !(g >= 3.5)}'
t1=$(awk 'END {print $1}' "$NOTIFY/log")
sleep 2
check "fed again once the loop runs" sh -c "awk -v t=$t1 '/WATCHDOG=1/ && \$1 > t' '$NOTIFY/log' | grep -q ."
check "STOPPING=1 on SIGTERM, then a plain restart" "$LAB" restart
check "STOPPING=1 was said" grep -q "STOPPING=1" "$NOTIFY/log"
kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null
rm -rf "$NOTIFY"
unit=$(mktemp /tmp/edged-XXXXXX.service)
sed "s|/usr/sbin/edged|$ROOT/build/edged|g" "$ROOT/config/edged.service" > "$unit"
if command -v systemd-analyze >/dev/null; then
	# its Documentation= names the manual pages, which are installed by the package (and
	# checked by tests/package/test_package.sh), not on this machine
	check "systemd-analyze verify accepts the unit" systemd-analyze verify --man=no "$unit"
fi
rm -f "$unit"

echo "clean stop"
pid=$(cat $RUN/edged.pid)
kill -TERM "$pid"
for _ in $(seq 1 100); do [ -d /proc/$pid ] || break; sleep 0.1; done
check_not "edged exited within 10 s of SIGTERM" test -d /proc/$pid
check_not "its TAP mirrors are gone" ip -n edge link show edge-a
check "its log says it stopped" grep -q "edged stopped" $RUN/edged.log

finish lab
