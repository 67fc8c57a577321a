# Sourced (by webbridge_media.sh): random packet loss on one side of the lab, made with nftables
# in a network namespace, the kernel having no netem. A table "inet edge_loss" whose output and
# input chains drop a share of the UDP to and from one address and port, chosen per packet by
# numgen random, with named counters of what they saw and what they dropped, so that a test can
# tell the loss was really made. While the table exists the EXIT trap deletes it first (then
# runs whatever trap was there before), so a failing run does not leave the loss behind.
LOSS_TABLE="inet edge_loss" LOSS_NS= LOSS_PREV_TRAP=

# loss_rules <percent> <ip> <udp port> [<ipv6>]: the table, as `nft -f` reads it, that drops
# <percent> of the UDP to and from <ip>:<port>, and [<ipv6>]:<port> when given (browsers take
# the media port's IPv6 host candidate when there is one); any table of that name before it is
# replaced
loss_rules() {
	cat <<-EOF
	table $LOSS_TABLE { }
	delete table $LOSS_TABLE
	table $LOSS_TABLE {
		counter out_seen { }
		counter out_drop { }
		counter in_seen { }
		counter in_drop { }
		chain output {
			type filter hook output priority 0; policy accept;
			ip daddr $2 udp dport $3 counter name out_seen
			ip daddr $2 udp dport $3 numgen random mod 100 < $1 counter name out_drop drop
			${4:+ip6 daddr $4 udp dport $3 counter name out_seen}
			${4:+ip6 daddr $4 udp dport $3 numgen random mod 100 < $1 counter name out_drop drop}
		}
		chain input {
			type filter hook input priority 0; policy accept;
			ip saddr $2 udp sport $3 counter name in_seen
			ip saddr $2 udp sport $3 numgen random mod 100 < $1 counter name in_drop drop
			${4:+ip6 saddr $4 udp sport $3 counter name in_seen}
			${4:+ip6 saddr $4 udp sport $3 numgen random mod 100 < $1 counter name in_drop drop}
		}
	}
	EOF
}

# loss_arm <netns>: from now on the EXIT trap deletes the table there (before the trap that
# was set), until loss_off; for a table made later by someone else (`nft -f` of loss_rules)
loss_arm() {
	local ns=$1
	if [ -z "$LOSS_NS" ]; then
		LOSS_PREV_TRAP=$(trap -p EXIT)
		# trap -p prints "trap -- '<handler>' EXIT": $3 is the handler
		eval "set -- $LOSS_PREV_TRAP"
		trap "loss_off; ${3:-}" EXIT
	fi
	LOSS_NS=$ns
}

# loss_on <netns> <percent> <ip> <udp port> [<ipv6>]: drops <percent> of the UDP to and from
# <ip>:<port> (and [<ipv6>]:<port>)
loss_on() {
	command -v nft >/dev/null || { echo "nft missing (Debian's nftables)" >&2; return 1; }
	loss_arm "$1"
	loss_rules "$2" "$3" "$4" "${5:-}" | ip netns exec "$1" nft -f -
}

# loss_counters: "<sent> <dropped> <received> <dropped>" packets (to the address, from it)
loss_counters() {
	local c
	for c in out_seen out_drop in_seen in_drop; do
		ip netns exec "$LOSS_NS" nft list counter $LOSS_TABLE $c 2>/dev/null |
			sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p'
	done | paste -sd' '
}

# loss_off: the table deleted, the trap as it was; 1 when it could not be deleted
loss_off() {
	local rc=0
	[ -n "$LOSS_NS" ] || return 0
	ip netns exec "$LOSS_NS" nft delete table $LOSS_TABLE 2>/dev/null
	ip netns exec "$LOSS_NS" nft list table $LOSS_TABLE >/dev/null 2>&1 && rc=1
	LOSS_NS=
	if [ -n "$LOSS_PREV_TRAP" ]; then eval "$LOSS_PREV_TRAP"; else trap - EXIT; fi
	LOSS_PREV_TRAP=
	return $rc
}
