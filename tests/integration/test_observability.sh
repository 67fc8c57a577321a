#!/usr/bin/env bash
# Observability in the lab, checked by the tools an operator would point at it: Debian's
# Prometheus scrapes `metrics listen a 9100` while coturn's client relays through the data
# plane, and its query API must say what `edgectl --json turn` says; HTTPS with the lab
# certificates, the scrapers' allow-list, bad requests, scraping hard under TURN traffic, the
# JSON pages, and remote syslog to a receiver on UDP, TCP and TLS, with a server that goes away
# (every line received or counted lost). Exit 77 where namespaces cannot be made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
INT=internal PUB=public
OUT_NS=hobs-out		# a scraper outside the allowed prefix
CERTS=${SOCK%/*}/certs	# the lab's mgmt.cert_dir
EDGE_A=198.18.10.1 HOST_A=198.18.10.2 MPORT=9100
SL_UDP=5514 SL_TCP=5515 SL_TLS=6514
TMP=
PROM_PID='' PEER_PID='' SINK_PID='' TCP_SINK_PID='' LOAD_PID='' UC_PID=''
PROM_PORT=

uclient() { timeout 60 ip netns exec $PUB turnutils_uclient -u edge -w edge-lab-password -e $HOST_A -r 3480 "$@" 198.18.20.1 2>&1; }
lost() { sed -n 's/.*Total lost packets \([0-9]*\) .*/\1/p' | tail -1; }
stop_pid() {	# <pid>: TERM, then KILL after 5 s
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}

# jsum <family> [<label>=<value> ...] < JSON: the sum of the samples that match, or "none"
jsum() {
	python3 -c '
import json, sys
f = {x["name"]: x for x in json.load(sys.stdin)["families"]}
want = dict(a.split("=", 1) for a in sys.argv[2:])
x = f.get(sys.argv[1])
if x is None:
    print("none")
else:
    print(int(sum(s["value"] for s in x["samples"]
                  if all(s["labels"].get(k) == v for k, v in want.items()))))' "$@" 2>/dev/null || echo "unparsable"
}

# pq <promql> [labels]: Prometheus's answer from inside the scraper's namespace: the values of
# the series, space separated ("none": no series); with "labels", each series' labels as JSON
pq() {
	ip netns exec $INT python3 - "$PROM_PORT" "$1" "${2:-}" <<'PY'
import json, sys, urllib.parse, urllib.request
port, query, mode = sys.argv[1:4]
try:
    u = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": query}))
    r = json.load(urllib.request.urlopen(u, timeout=5))["data"]["result"]
except Exception as e:
    print("error: %s" % e)
    sys.exit()
num = lambda v: str(int(float(v))) if float(v) == int(float(v)) else v
if mode == "labels":
    for x in r:
        print(json.dumps(x["metric"], sort_keys=True))
else:
    print(" ".join(num(x["value"][1]) for x in r) if r else "none")
PY
}

# wait_pq <seconds> <promql> <op> <n>: polls until [ <value> <op> <n> ] holds; echoes the last value
wait_pq() {
	local v='' i
	for i in $(seq 1 $(($1 * 2))); do
		v=$(pq "$2")
		case $v in none|error*) ;; *) test "$v" "$3" "$4" 2>/dev/null && break ;; esac
		sleep 0.5
	done
	echo "$v"
}

# http_raw <ns> <request, with \r\n escapes> [tls]: the status line of the answer, or what
# happened instead ("closed", "timeout", "refused")
http_raw() {
	ip netns exec "$1" python3 - "$EDGE_A" "$MPORT" "$2" <<'PY'
import socket, sys
host, port, req = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
try:
    s = socket.create_connection((host, port), timeout=5)
except ConnectionRefusedError:
    print("refused"); sys.exit()
except OSError as e:
    print("connect: %s" % e); sys.exit()
s.settimeout(5)
try:
    for i in range(0, len(req), 1024):
        s.sendall(req[i:i + 1024])
except OSError:
    pass	# the server may answer and close before it has read everything: the answer counts
buf = b""
try:
    while b"\r\n" not in buf:
        c = s.recv(4096)
        if not c:
            break
        buf += c
except socket.timeout:
    print("timeout" if not buf else buf.split(b"\r\n")[0].decode()); sys.exit()
except ConnectionResetError:
    pass
print(buf.split(b"\r\n")[0].decode(errors="replace") if buf else "closed")
PY
}

mstat() { ctl metrics status | sed -n "s/^$1 *: \([0-9]*\).*/\1/p"; }
# sl_field <port> sent|queued|lost: from the syslog page's line for that server
sl_field() {
	ctl syslog | sed -n "s/^Server *: $HOST_A:$1 [a-z]*: .*, \([0-9]*\) sent, \([0-9]*\) queued, \([0-9]*\) lost$/\1 \2 \3/p" |
		awk -v f="$2" '{print f == "sent" ? $1 : f == "queued" ? $2 : $3}'
}
# logged <pattern>: the newest `edgectl log` line matching, from the component name on (what a
# syslog receiver's MSG must be)
logged() { ctl log 400 | grep -E "$1" | tail -1 | sed 's/^[A-Z][a-z]* *[0-9]* [0-9:.]* [a-z0-9]*\.[a-z]* edge //'; }
# sink_count <file> <transport> <msg>: records of that transport with exactly that MSG
sink_count() {
	python3 - "$@" <<'PY'
import json, sys
path, tr, msg = sys.argv[1:4]
n = 0
try:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        n += r.get("transport") == tr and r.get("msg") == msg
except OSError:
    pass
print(n)
PY
}
# start_sink <out> <err> <args...>: a syslog_sink.py in the internal namespace; its PID in SINK
start_sink() {
	local out=$1 err=$2
	shift 2
	: > "$err"
	ip netns exec $INT /usr/bin/python3 tests/integration/clients/syslog_sink.py --bind $HOST_A \
		--out "$out" "$@" 2>"$err" &
	SINK=$!
	for _ in $(seq 1 50); do grep -q "listening" "$err" && return 0; sleep 0.1; done
	return 1
}

require_netns observability
for t in prometheus turnutils_uclient curl openssl; do
	command -v $t >/dev/null || { echo "observability tests: $t missing (scripts/setup.sh installs it)"; echo "observability tests: 0 passed, 1 failed"; exit 1; }
done

cleanup() {
	for p in "$LOAD_PID" "$UC_PID" "$PROM_PID" "$SINK_PID" "$TCP_SINK_PID" "$PEER_PID"; do stop_pid "$p"; done
	ip netns del "$OUT_NS" 2>/dev/null
	"$LAB" down >/dev/null 2>&1 || true
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
TMP=$(mktemp -d /tmp/hobs-obs.XXXXXX)
"$LAB" down >/dev/null 2>&1 || true
EDGE_LAB_QUIET=1 QUIET_HUGEPAGES=1 "$LAB" up >/dev/null || { echo "observability tests: 0 passed, 1 failed"; exit 1; }
ctl turn enable >/dev/null
ip netns exec $INT turnutils_peer -L $HOST_A -p 3480 >/dev/null 2>&1 &
PEER_PID=$!

echo "the endpoint: metrics listen a $MPORT; metrics allow add 198.18.10.0/24; metrics enable"
out=$(ctl metrics listen a $MPORT && ctl metrics allow add 198.18.10.0/24 && ctl metrics enable 2>&1)
[ $? = 0 ] && ok "the three commands are accepted" || bad "metrics commands: $out"
page=$(ctl metrics status)
echo "$page" | grep -q "^STATUS *: serving http://$EDGE_A:$MPORT/metrics" && ok "metrics status: serving http://$EDGE_A:$MPORT/metrics" ||
	bad "metrics status: $page"
echo "$page" | grep -q "^Allowed scrapers *: 198.18.10.0/24" && ok "the allow-list is on the page" || bad "allow-list: $page"
out=$(ctl metrics listen zz 9100 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "'zz'" && ok "metrics listen zz is refused, naming 'zz'" || bad "listen zz: $out"

echo "Prometheus (Debian's) scrapes it every second"
PROM_PORT=$(ip netns exec $INT python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: edge
    static_configs:
      - targets: ['$EDGE_A:$MPORT']
EOF
ip netns exec $INT /usr/bin/prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
	>"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 1 60); do
	ip netns exec $INT curl -sf -m 1 "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && break
	kill -0 $PROM_PID 2>/dev/null || break
	sleep 0.5
done
up=$(wait_pq 20 'up{job="edge"}' = "1")
[ "$up" = 1 ] && ok "Prometheus's target is up (up = 1)" || { bad "up = '$up'"; tail -5 "$TMP/prometheus.log"; }

echo "TURN traffic Prometheus must count"
a0=$(ctl --json turn | jsum edge_turn_allocation_events_total event=created)
l=$(uclient -n 50 -m 2 -l 172 -c | lost)
[ "$l" = 0 ] && ok "turnutils_uclient: 2 clients x 50 packets relayed, none lost" || bad "uclient lost '$l'"
j=$(ctl --json turn)
for d in client_to_peer peer_to_client; do
	want=$(echo "$j" | jsum edge_turn_relayed_packets_total direction=$d transport=udp)
	v=$(wait_pq 15 "sum(edge_turn_relayed_packets_total{direction=\"$d\",transport=\"udp\"})" = "$want")
	[ "$v" = "$want" ] && [ "$v" -ge 100 ] 2>/dev/null &&
		ok "Prometheus: edge_turn_relayed_packets_total{direction=\"$d\"} = $v = edgectl --json turn, >= the 100 sent" ||
		bad "relayed $d: Prometheus '$v', edgectl --json turn '$want' (100 sent)"
done
a1=$(echo "$j" | jsum edge_turn_allocation_events_total event=created)
v=$(wait_pq 10 'edge_turn_allocation_events_total{event="created"}' -ge "$a1")
[ "$v" -ge 2 ] 2>/dev/null && [ "$v" -ge "$a1" ] && [ $((a1 - a0)) -ge 2 ] &&
	ok "Prometheus: allocations created = $v (>= the 2 made; edgectl $a0 -> $a1)" || bad "allocations created: Prometheus '$v', edgectl $a0 -> $a1"
v=$(pq edge_turn_allocations)
case $v in none|error*) bad "edge_turn_allocations: '$v'" ;; *) ok "Prometheus has the allocations gauge (now $v)" ;; esac
lab=$(pq edge_interface_drops_total labels)
echo "$lab" | grep -q '"reason": "[^"]' && echo "$lab" | grep -q '"interface": "a"' &&
	ok "edge_interface_drops_total has interface and reason labels ($(echo "$lab" | wc -l) series)" ||
	bad "drops labels: $(echo "$lab" | head -3)"
v=$(pq edge_metrics_scrapes_total)
[ "${v:-0}" -ge 1 ] 2>/dev/null && ok "Prometheus sees its own scrapes counted (edge_metrics_scrapes_total $v)" || bad "scrapes_total '$v'"
s=$(mstat Scrapes)
[ "${s:-0}" -ge 1 ] && ok "metrics status counts them too (Scrapes $s)" || bad "metrics status Scrapes '$s'"

echo "every family edgectl has, Prometheus has"
ctl metrics | awk '!/^#/ && NF {n = $1; sub(/\{.*/, "", n); print n}' | sort -u > "$TMP/ctl-names"
sleep 2.5	# two scrapes later
ip netns exec $INT curl -sf -m 5 "http://127.0.0.1:$PROM_PORT/api/v1/label/__name__/values" |
	python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["data"]))' | sort -u > "$TMP/prom-names"
missing=$(comm -23 "$TMP/ctl-names" "$TMP/prom-names")
n=$(wc -l < "$TMP/ctl-names")
if [ "$n" -gt 10 ] && [ -z "$missing" ]; then ok "all $n sample names of edgectl metrics are in Prometheus"; else
	[ "$n" -gt 10 ] || bad "edgectl metrics has only $n sample names"
	for m in $missing; do bad "missing in Prometheus: $m"; done
fi
have=$(ctl metrics | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p')
for f in edge_interface_rx_packets_total edge_interface_drops_total edge_turn_relayed_packets_total \
	edge_turn_allocations edge_turn_allocation_events_total edge_turn_errors_total \
	edge_metrics_scrapes_total edge_metrics_refused_total edge_turn_allocate_seconds \
	edge_firewall_rule_hits_total edge_syslog_sent_total edge_syslog_lost_total edge_syslog_queued; do
	echo "$have" | grep -qx "$f" || echo "  note  $f: not in edgectl metrics (yet)"
done

[ -n "${OBS_METRICS_OUT:-}" ] && ctl metrics > "$OBS_METRICS_OUT"	# for docs/monitoring.md's table

echo "the Grafana dashboard's queries (docs/grafana/edge-appliance.json)"
out=$(ip netns exec $INT python3 - "$PROM_PORT" docs/grafana/edge-appliance.json <<'PY'
import json, sys, urllib.error, urllib.parse, urllib.request
port, path = sys.argv[1:3]
exprs = [t["expr"] for p in json.load(open(path))["panels"] for t in p.get("targets", [])]
bad = []
for e in exprs:
    q = e.replace("$__rate_interval", "1m").replace("$instance", ".*")
    try:
        u = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
        if json.load(urllib.request.urlopen(u, timeout=5))["status"] != "success":
            bad.append(e)
    except (urllib.error.URLError, ValueError) as x:
        bad.append("%s (%s)" % (e, x))
print(len(exprs), "|".join(bad))
PY
)
[ "${out%% *}" -ge 20 ] 2>/dev/null && [ -z "${out#* }" ] && ok "Prometheus accepts all ${out%% *} of its queries" || bad "dashboard queries refused: $out"

echo "JSON pages"
p1=$(ctl iface a | sed -n 's/^ *RX packets *: \([0-9]*\) .*/\1/p')
ja=$(ctl --json iface a)
p2=$(ctl iface a | sed -n 's/^ *RX packets *: \([0-9]*\) .*/\1/p')
jr=$(echo "$ja" | jsum edge_interface_rx_packets_total interface=a)
[ -n "$p1" ] && [ "$jr" -ge "$p1" ] 2>/dev/null && [ "$jr" -le "$p2" ] &&
	ok "edgectl --json iface a: rx packets $jr, the iface a page $p1 .. $p2" || bad "--json iface a rx '$jr', page '$p1'..'$p2'"
jo=$(echo "$ja" | jsum edge_interface_rx_packets_total interface=b)
[ "$jo" = 0 ] || [ "$jo" = none ] && ok "--json iface a has a's samples only" || bad "--json iface a has b's: $jo"
out=$(ctl --json iface zz 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "'zz'" && ok "edgectl --json iface zz fails naming 'zz'" || bad "--json iface zz: $out"
ctl --json metrics | jsum edge_metrics_scrapes_total | grep -qE '^[1-9]' && ok "edgectl --json metrics parses" || bad "--json metrics"

echo "bad requests"
for c in "431|GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n|a 9 KiB head" \
	"400|GET /metrics HTTP/1.1 junk\r\nHost: x\r\n\r\n|a malformed request line" \
	"405|POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n|POST" \
	"404|GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n|GET /other"; do
	want=${c%%|*} rest=${c#*|}
	got=$(http_raw $INT "${rest%|*}")
	case $got in "HTTP/1.1 $want "*) ok "${rest##*|}: $got" ;; *) bad "${rest##*|}: '$got', expected $want" ;; esac
done
b=$(ctl metrics status | sed -n 's/^Bad requests *: \([0-9]*\) (404: \([0-9]*\))/\1 \2/p')
set -- $b
[ "${1:-0}" -ge 3 ] && [ "${2:-0}" -ge 1 ] && ok "metrics status counts them (bad requests $1, 404s $2)" || bad "Bad requests line: '$b'"
[ "$(http_raw $INT 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')" = "HTTP/1.1 200 OK" ] && ok "and still answers GET /metrics (200)" || bad "no 200 after bad requests"

echo "100 scrapes a second for 10 s while TURN relays"
ip netns exec $INT python3 - "$EDGE_A" "$MPORT" > "$TMP/load.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
good = poor = 0
worst = 0.0
t0 = time.monotonic()
for i in range(1000):
    d = t0 + i / 100 - time.monotonic()
    if d > 0:
        time.sleep(d)
    s0 = time.monotonic()
    buf = b""
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode())
            while True:
                c = s.recv(65536)
                if not c:
                    break
                buf += c
    except OSError:
        pass
    if buf.startswith(b"HTTP/1.1 200") and b"edge_turn_relayed_packets_total" in buf:
        good += 1
    else:
        poor += 1
    worst = max(worst, time.monotonic() - s0)
print(good, poor, "%.1f" % (time.monotonic() - t0), int(worst * 1000))
PY
LOAD_PID=$!
sleep 0.5
uclient -n 400 -m 1 -l 172 -c > "$TMP/uclient.out" &
UC_PID=$!
slow=0 worst=0
for _ in $(seq 1 8); do
	t0=$(date +%s%N)
	ctl status >/dev/null || slow=$((slow + 1))
	dt=$((($(date +%s%N) - t0) / 1000000))
	[ $dt -gt $worst ] && worst=$dt
	[ $dt -ge 1000 ] && slow=$((slow + 1))
	sleep 1
done
for _ in $(seq 1 60); do kill -0 $LOAD_PID 2>/dev/null || kill -0 $UC_PID 2>/dev/null || break; sleep 0.5; done
wait $LOAD_PID 2>/dev/null; LOAD_PID=
wait $UC_PID 2>/dev/null; UC_PID=
l=$(lost < "$TMP/uclient.out")
[ "$l" = 0 ] && ok "TURN relayed 400 packets under the scraping, none lost" || bad "TURN under scraping: lost '$l'"
set -- $(cat "$TMP/load.out")
[ "${1:-0}" = 1000 ] && [ "${2:-1}" = 0 ] && ok "1000 scrapes in ${3}s all answered 200 (slowest ${4} ms)" || bad "scrapes: $(cat "$TMP/load.out")"
[ $slow = 0 ] && ok "edgectl status answered within 1 s throughout (slowest $worst ms)" || bad "edgectl status: $slow slow or failed (slowest $worst ms)"

echo "HTTPS: metrics certs lab.key lab-fullchain.pem"
out=$(ctl metrics certs lab.key lab-fullchain.pem 2>&1)
[ $? = 0 ] && ctl metrics status | grep -q "^STATUS *: serving https://$EDGE_A:$MPORT/metrics" && ok "serving https://$EDGE_A:$MPORT/metrics" ||
	bad "metrics certs: $out / $(ctl metrics status | head -1)"
body=$(ip netns exec $INT curl -sS -m 5 --cacert "$CERTS/lab-ca.pem" "https://$EDGE_A:$MPORT/metrics" 2>&1)
echo "$body" | grep -q "^# TYPE edge_turn_relayed_packets_total counter" && echo "$body" | grep -q '^edge_turn_relayed_packets_total{' &&
	ok "curl --cacert lab-ca.pem gets the exposition over TLS" || bad "https scrape: $(echo "$body" | head -2)"
f0=$(mstat "TLS handshakes failed")
ip netns exec $INT curl -s -m 5 "http://$EDGE_A:$MPORT/metrics" >/dev/null 2>&1 && bad "plain HTTP answered on the HTTPS endpoint" ||
	ok "plain HTTP gets nothing from the HTTPS endpoint"
f1=$(mstat "TLS handshakes failed")
[ "${f1:-0}" -gt "${f0:-0}" ] && ok "counted as a failed TLS handshake ($f0 -> $f1)" || bad "TLS handshakes failed: $f0 -> $f1"
ctl metrics certs none >/dev/null
# the endpoint starts again on its own thread: bounded wait for it
for _ in $(seq 50); do ctl metrics status | grep -q "^STATUS *: serving http://" && break; sleep 0.1; done
ctl metrics status | grep -q "^STATUS *: serving http://$EDGE_A:$MPORT/metrics" &&
	ip netns exec $INT curl -sf -m 5 "http://$EDGE_A:$MPORT/metrics" | grep -q '^edge_turn_allocations ' &&
	ok "metrics certs none: plain HTTP again" || bad "after certs none: $(ctl metrics status | head -1)"

echo "the allow-list: a scraper in 198.18.41.0/24 (namespace $OUT_NS, routed through internal)"
ip netns del $OUT_NS 2>/dev/null
ip netns add $OUT_NS && ip -n $OUT_NS link set lo up &&
	ip link add hobs-o0 netns $INT type veth peer name hobs-o1 netns $OUT_NS &&
	ip -n $INT addr add 198.18.41.1/24 dev hobs-o0 && ip -n $INT link set hobs-o0 up &&
	ip -n $OUT_NS addr add 198.18.41.2/24 dev hobs-o1 && ip -n $OUT_NS link set hobs-o1 up &&
	ip -n $OUT_NS route add default via 198.18.41.1 &&
	ip netns exec $INT sysctl -qw net.ipv4.ip_forward=1 || bad "cannot make namespace $OUT_NS"
ip netns exec $OUT_NS ethtool -K hobs-o1 tx off >/dev/null 2>&1 || true
ctl ipv4 a route add 198.18.41.0/24 $HOST_A >/dev/null || bad "ipv4 a route add 198.18.41.0/24"
timeout 5 ip netns exec $OUT_NS ping -c 1 -W 2 $EDGE_A >/dev/null 2>&1 && ok "$OUT_NS reaches $EDGE_A (ping)" || bad "$OUT_NS cannot ping $EDGE_A"
r0=$(mstat "Refused (not allowed)")
got=$(http_raw $OUT_NS 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
[ "$got" = closed ] && ok "a scrape from 198.18.41.2 gets no answer (connection closed)" || bad "from outside the allow-list: '$got'"
r1=$(mstat "Refused (not allowed)")
[ "${r1:-0}" -gt "${r0:-0}" ] && ok "metrics status counts the refusal ($r0 -> $r1)" || bad "Refused: $r0 -> $r1"
v=$(wait_pq 10 edge_metrics_refused_total -ge "${r1:-1}")
[ "$v" -ge "${r1:-1}" ] 2>/dev/null && [ "$v" -gt "${r0:-0}" ] && ok "Prometheus: edge_metrics_refused_total rose to $v" || bad "refused_total in Prometheus '$v' (edgectl $r0 -> $r1)"
ctl metrics allow add 198.18.41.0/24 >/dev/null
got=$(http_raw $OUT_NS 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
[ "$got" = "HTTP/1.1 200 OK" ] && ok "once its prefix is allowed, it is answered" || bad "allowed prefix: '$got'"
ctl metrics allow del 198.18.41.0/24 >/dev/null
ctl ipv4 a route del 198.18.41.0/24 >/dev/null
ip netns del $OUT_NS

echo "remote syslog: a receiver on UDP $SL_UDP, TCP $SL_TCP and TLS $SL_TLS at $HOST_A"
# the receiver's certificate, from the lab CA, for the address edged checks it against
(
	set -e
	cd "$TMP"
	openssl ecparam -name prime256v1 -genkey -noout -out sink.key
	openssl req -new -key sink.key -subj /CN=syslog.lab.example -out sink.csr
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=IP:$HOST_A" > sink.ext
	openssl x509 -req -in sink.csr -CA "$CERTS/lab-ca.pem" -CAkey "$CERTS/lab-ca.key" -days 2 \
		-sha256 -set_serial "0x$(openssl rand -hex 8)" -extfile sink.ext -out sink.pem
	cat sink.pem "$CERTS/lab-ca.pem" > sink-fullchain.pem
) >/dev/null 2>&1 || bad "cannot make the receiver's certificate"
start_sink "$TMP/sink.jsonl" "$TMP/sink.err" --udp $SL_UDP --tls $SL_TLS --cert "$TMP/sink-fullchain.pem" --key "$TMP/sink.key" ||
	bad "syslog_sink (udp, tls) did not start: $(cat "$TMP/sink.err")"
SINK_PID=$SINK
start_sink "$TMP/sink-tcp.jsonl" "$TMP/sink-tcp.err" --tcp $SL_TCP || bad "syslog_sink (tcp) did not start: $(cat "$TMP/sink-tcp.err")"
TCP_SINK_PID=$SINK
out=$(ctl syslog server add $HOST_A:$SL_TLS tls 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "syslog ca" && ok "a tls server before a CA bundle is refused ($out)" || bad "tls without ca: $out"
out=$(ctl syslog ca lab-ca.pem && ctl syslog server add $HOST_A:$SL_UDP udp && ctl syslog server add $HOST_A:$SL_TCP tcp &&
	ctl syslog server add $HOST_A:$SL_TLS tls && ctl syslog enable 2>&1)
[ $? = 0 ] && ok "syslog ca, three servers, syslog enable" || bad "syslog commands: $out"
page=$(ctl syslog)
echo "$page" | grep -q "^Enabled *: true" && echo "$page" | grep -q "^CA bundle *: lab-ca.pem" &&
	[ "$(echo "$page" | grep -c "^Server *: $HOST_A:")" = 3 ] && ok "the syslog page lists the three servers" || bad "syslog page: $page"
msgs=()
for i in 1 2 3; do
	ctl turn quota total 100$i >/dev/null
	msgs+=("$(logged "configuration changed: turn quota total 100$i\$")")
done
edged_pid=$(cat "${SOCK%/*}/edged.pid" 2>/dev/null)
for tr in udp tcp tls; do
	f=$TMP/sink.jsonl
	[ $tr = tcp ] && f=$TMP/sink-tcp.jsonl
	got=0
	for _ in $(seq 1 30); do
		got=0
		for m in "${msgs[@]}"; do [ "$(sink_count "$f" $tr "$m")" -ge 1 ] && got=$((got + 1)); done
		[ $got = 3 ] && break
		sleep 0.5
	done
	[ $got = 3 ] && ok "$tr: the receiver has the 3 lines, MSG exactly as edgectl log shows it ('${msgs[0]}')" ||
		bad "$tr: $got of 3 lines received ($(ctl syslog | grep ":$tr\|$tr:" | head -1))"
done
python3 - "$TMP/sink-tcp.jsonl" "${msgs[0]}" "$edged_pid" <<'PY' && ok "RFC 5424 fields: version 1, UTC timestamp, APP-NAME edge, PROCID edged's pid, severity info" || bad "RFC 5424 fields: $(grep -F "${msgs[0]}" "$TMP/sink-tcp.jsonl" | head -1)"
import json, re, sys
path, msg, pid = sys.argv[1:4]
for line in open(path):
    r = json.loads(line)
    if r.get("msg") == msg:
        ok = (not r.get("invalid") and r["app"] == "edge" and r["procid"] == pid and r["pri"] % 8 == 6
              and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", r["timestamp"]))
        sys.exit(0 if ok else 1)
sys.exit(1)
PY
m=$(ctl metrics | grep -c "^edge_syslog_sent_total{server=\"$HOST_A:[0-9]*\",transport=\"\(udp\|tcp\|tls\)\"} [1-9]")
[ "$m" = 3 ] && ok "edge_syslog_sent_total counts for the three servers" || bad "edge_syslog_sent_total: $(ctl metrics | grep edge_syslog_sent_total)"

echo "the TCP receiver goes away for 20 lines, and comes back"
lost0=$(sl_field $SL_TCP lost)
stop_pid "$TCP_SINK_PID"; TCP_SINK_PID=
later=()
for i in $(seq 1 20); do
	ctl turn quota total $((2000 + i)) >/dev/null
	later+=("$(logged "configuration changed: turn quota total $((2000 + i))\$")")
done
start_sink "$TMP/sink-tcp.jsonl" "$TMP/sink-tcp.err" --tcp $SL_TCP || bad "syslog_sink (tcp) did not restart: $(cat "$TMP/sink-tcp.err")"
TCP_SINK_PID=$SINK
got=0 lostd=0
for _ in $(seq 1 60); do
	got=0
	for m in "${later[@]}"; do [ "$(sink_count "$TMP/sink-tcp.jsonl" tcp "$m")" -ge 1 ] && got=$((got + 1)); done
	q=$(sl_field $SL_TCP queued)
	lostd=$(($(sl_field $SL_TCP lost) - ${lost0:-0}))
	[ $((got + lostd)) -ge 20 ] && [ "${q:-1}" = 0 ] && break
	sleep 0.5
done
[ $((got + lostd)) -ge 20 ] && ok "of the 20 lines, $got received and $lostd counted lost: none silently gone" ||
	bad "20 lines: $got received, $lostd counted lost ($(ctl syslog | grep ":$SL_TCP "))"
tls=0
for m in "${later[@]}"; do [ "$(sink_count "$TMP/sink.jsonl" tls "$m")" -ge 1 ] && tls=$((tls + 1)); done
[ $tls = 20 ] && ok "the TLS receiver, up all along, has all 20" || bad "TLS receiver has $tls of 20"

echo "syslog disable; syslog server del $HOST_A; syslog ca none"
out=$(ctl syslog disable && ctl syslog server del $HOST_A && ctl syslog ca none 2>&1)
rc=$?
page=$(ctl syslog)
[ $rc = 0 ] && echo "$page" | grep -q "^Enabled *: false" && echo "$page" | grep -q "^Servers *: none" &&
	ok "syslog page: disabled, no servers" || bad "syslog cleanup: $out / $page"
ctl turn quota total none >/dev/null
stop_pid "$SINK_PID"; SINK_PID=
stop_pid "$TCP_SINK_PID"; TCP_SINK_PID=
stop_pid "$PROM_PID"; PROM_PID=
ctl status >/dev/null && ok "edged still answers after all that" || bad "edged is gone"

finish observability
