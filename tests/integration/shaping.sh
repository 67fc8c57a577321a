# Sourced (by webbridge_media.sh): one guest's downlink limited to a rate (tbf), the guests
# sharing the interface pub0 of namespace public. The kernel shapes only what leaves an
# interface and has no `police` action, so what arrives on pub0 for the guest's UDP port is
# redirected (an ingress qdisc, a u32 filter, `mirred egress redirect`) to an ifb device whose
# root qdisc is a token bucket; the packets it lets through come back in on pub0. The tbf and
# the filter keep counters (tc -s), so a test can tell the traffic went through it and was
# held back. While the shaping exists the EXIT trap removes it first (then runs whatever trap
# was there before), so a failing run does not leave it behind.
SHAPE_NS= SHAPE_DEV= SHAPE_IFB=ifb0 SHAPE_PREV_TRAP=

# shape_arm <netns> <dev>: from now on the EXIT trap removes the shaping there (before the
# trap that was set), until shape_off
shape_arm() {
	local ns=$1 dev=$2
	if [ -z "$SHAPE_NS" ]; then
		SHAPE_PREV_TRAP=$(trap -p EXIT)
		# trap -p prints "trap -- '<handler>' EXIT": $3 is the handler
		eval "set -- $SHAPE_PREV_TRAP"
		trap "shape_off; ${3:-}" EXIT
	fi
	SHAPE_NS=$ns SHAPE_DEV=$dev
}

# shape_on <netns> <dev> <rate> [<latency>]: the ifb device, its token bucket (<rate>, as tc
# reads it: 300kbit; a queue of <latency>, 200ms unless told) and the ingress qdisc on <dev>;
# no traffic goes through it until shape_filter_cmd's filter is added
shape_on() {
	local ns=$1 dev=$2 rate=$3 lat=${4:-200ms}
	command -v tc >/dev/null || { echo "tc missing (Debian's iproute2)" >&2; return 1; }
	shape_arm "$ns" "$dev"
	ip -n "$ns" link add "$SHAPE_IFB" type ifb &&
		ip -n "$ns" link set "$SHAPE_IFB" up &&
		ip netns exec "$ns" tc qdisc add dev "$SHAPE_IFB" root tbf rate "$rate" burst 4kb latency "$lat" &&
		ip netns exec "$ns" tc qdisc add dev "$dev" handle ffff: ingress
}

# shape_filter_cmd <port>: the command (to be run in the namespace) that sends the UDP arriving
# on the device for destination port <port> (a literal "{port}" passes through, for
# browser_media.py --limit-cmd) through the token bucket, over IPv4 and IPv6 (browsers take
# the media port's IPv6 host candidate when there is one)
shape_filter_cmd() {
	printf '%s filter add dev %s parent ffff: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport %s 0xffff action mirred egress redirect dev %s && ' \
		"$(command -v tc)" "$SHAPE_DEV" "$1" "$SHAPE_IFB"
	printf '%s filter add dev %s parent ffff: protocol ipv6 prio 2 u32 match ip6 protocol 17 0xff match ip6 dport %s 0xffff action mirred egress redirect dev %s\n' \
		"$(command -v tc)" "$SHAPE_DEV" "$1" "$SHAPE_IFB"
}

# shape_counters: "<bytes> <packets> <dropped> <overlimits> <filter packets>": what the token
# bucket sent, dropped and held back (overlimits), and how many packets the filter redirected
shape_counters() {
	local q f
	q=$(ip netns exec "$SHAPE_NS" tc -s qdisc show dev "$SHAPE_IFB" 2>/dev/null |
		sed -n 's/^[[:space:]]*Sent \([0-9]*\) bytes \([0-9]*\) pkt (dropped \([0-9]*\), overlimits \([0-9]*\).*/\1 \2 \3 \4/p' | head -1)
	# both filters' (IPv4, IPv6) packets
	f=$(ip netns exec "$SHAPE_NS" tc -s filter show dev "$SHAPE_DEV" parent ffff: 2>/dev/null |
		sed -n 's/^[[:space:]]*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | awk '{s += $1} END {print s + 0}')
	echo "${q:-0 0 0 0} ${f:-0}"
}

# shape_off: the ingress qdisc (and its filter) and the ifb device removed, the trap as it
# was; 1 when something is left
shape_off() {
	local rc=0
	[ -n "$SHAPE_NS" ] || return 0
	ip netns exec "$SHAPE_NS" tc qdisc del dev "$SHAPE_DEV" ingress 2>/dev/null
	ip -n "$SHAPE_NS" link del "$SHAPE_IFB" 2>/dev/null
	ip netns exec "$SHAPE_NS" tc qdisc show dev "$SHAPE_DEV" 2>/dev/null | grep -q 'qdisc ingress' && rc=1
	ip -n "$SHAPE_NS" link show "$SHAPE_IFB" >/dev/null 2>&1 && rc=1
	SHAPE_NS= SHAPE_DEV=
	if [ -n "$SHAPE_PREV_TRAP" ]; then eval "$SHAPE_PREV_TRAP"; else trap - EXIT; fi
	SHAPE_PREV_TRAP=
	return $rc
}
