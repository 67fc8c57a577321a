# Sourced by the lab benchmarks (not run): coturn's own namespace "cturn", wired to the lab's
# public and internal networks on 198.18.21.0/24 (clients reach coturn at 198.18.21.1) and
# 198.18.11.0/24 (it relays from 198.18.11.1 to peers at 198.18.11.2), beside edged's
# 198.18.20.0/24 and 198.18.10.0/24. The lab must be up; `ip netns del cturn` undoes it.
coturn_netns_up() {
	ip netns add cturn
	ip -n cturn link set lo up
	ip link add ct-b netns cturn type veth peer name pub1 netns public
	ip link add ct-a netns cturn type veth peer name int1 netns internal
	ip -n cturn addr add 198.18.21.1/24 dev ct-b && ip -n cturn link set ct-b up
	ip -n cturn addr add 198.18.11.1/24 dev ct-a && ip -n cturn link set ct-a up
	ip -n public addr add 198.18.21.2/24 dev pub1 && ip -n public link set pub1 up
	ip -n internal addr add 198.18.11.2/24 dev int1 && ip -n internal link set int1 up
}
