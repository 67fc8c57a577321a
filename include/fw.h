/* The per-interface in-line firewall: the operator's rules (a plain value the CLI edits and
 * the configuration file keeps), their compiled form the workers match against, per-lcore
 * hit counters, and the flow table that lets replies to the appliance's own traffic in.
 *
 * fw_ruleset: built by the control plane (fw_compile, one thread, off the fast path) and
 *   published with one pointer store (edge_rcu_publish); read by workers lock-free. A
 *   published rule set is immutable. NULL means the interface's firewall is disabled.
 * fw_counters: one per lcore and interface, written by that lcore only, summed on read.
 * fw_flowtab: written and read by every worker, no locks: each entry has a sequence count
 *   (odd while a writer rewrites it). It is a cache of recent flows, not a ledger: a busy
 *   table overwrites its oldest entries, and a reader racing a writer may miss.
 *
 * What a packet meets (fw_verdict_ipv4 and fw_verdict_ipv6 do all of it):
 *   TCP, UDP   the first rule matching the destination port, protocol and source wins, else
 *              the default. A packet so denied still passes if it is a reply to a flow the
 *              appliance opened itself (fw_flow_note_outbound saw the outbound side).
 *   ICMP       queries (echo, ...) always pass: the data plane answers echo itself and an
 *              operator needs ping. Errors (unreachable, time exceeded, ...) pass only if the
 *              packet they quote belongs to a flow the appliance opened, or to one whose
 *              replies the rules would let in; an error quoting anything else is dropped.
 *   ICMPv6     the same: informational messages (type >= 128: echo, neighbour discovery...)
 *              pass; errors (type < 128: unreachable, packet too big, ...) are judged by the
 *              IPv6 packet they quote (one with extension headers before its TCP/UDP header
 *              is not looked into: dropped).
 *   others     the default policy.
 * Families: a rule without `from` applies to IPv4 and IPv6; one `from` an IPv4 prefix to IPv4
 * packets only, one `from` an IPv6 prefix to IPv6 packets only. The flow table keys IPv6
 * flows by their full addresses.
 *   ARP        never reaches the firewall.
 * All addresses and ports handed to the fast path are in host byte order; `now` is any
 * seconds counter (e.g. rte_rdtsc() / rte_get_tsc_hz(), once per burst), the same for both.
 *
 * A worker, per packet received on interface i (after L2/L3, before classification):
 *	v = fw_verdict_ipv4(edge_rcu_read(fw_rules[i]), flows, ip, ip_len, now);
 *	fw_count(&my_fw_counters[i], v, pkt_len);
 *	if (!fw_allowed(v))
 *		drop(DP_DROP_FIREWALL);
 * and per packet the appliance itself sends (from a kernel mirror or the control plane):
 *	fw_flow_note_ipv4(flows, ip, ip_len, now);
 * For IPv6 the caller walks the extension headers first and hands over the upper layer:
 *	v = fw_verdict_ipv6(rules, flows, ip6->src, ip6->dst, proto, l4, l4_len, now);
 *	fw_flow_note_ipv6(flows, ip6->src, ip6->dst, proto, l4, l4_len, now); */
#ifndef EDGE_FW_H
#define EDGE_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_bytes.h"

#define FW_MAX_RULES 1024

enum fw_action {
	FW_ALLOW = 0, /* zero, so a zeroed configuration is "disabled, default allow" */
	FW_DENY = 1,
};

#define FW_PROTO_TCP 0x1
#define FW_PROTO_UDP 0x2
#define FW_PROTO_BOTH (FW_PROTO_TCP | FW_PROTO_UDP)

/* A `from` prefix's family; IPv4 is 0, so a rule built with src_addr alone is IPv4. */
#define FW_SRC_IPV4 0
#define FW_SRC_IPV6 1

/* Room for any rule's fw_rule_format text (the longest, with an IPv6 prefix, is 70). */
#define FW_RULE_TEXT_MAX 96

/* One rule as the operator wrote it: `allow|deny <port>[-<port>][/tcp|/udp] [from <prefix>]`. */
struct fw_rule {
	uint8_t action;	  /* enum fw_action */
	uint8_t protos;	  /* FW_PROTO_TCP | FW_PROTO_UDP: at least one */
	uint8_t has_src;  /* limited to a source prefix (of src_family); else both families */
	uint8_t src_len;  /* its length, 0..32 (IPv4) or 0..128 (IPv6) */
	uint16_t port_lo; /* destination ports, inclusive */
	uint16_t port_hi;
	uint32_t src_addr;  /* IPv4: host order; host bits are zero */
	uint8_t src6[16];   /* IPv6: network order; host bits are zero */
	uint8_t src_family; /* FW_SRC_IPV4 or FW_SRC_IPV6; with has_src only */
	/* Bookkeeping set by fw_cmd_apply / fw_rule_add, not part of what the rule means:
	 * its counter slot (kept while the rule lives, so deleting another rule does not move
	 * its hits) and a serial unique to this rule in the process (a new rule that reuses a
	 * slot starts from zero hits). */
	uint16_t slot;
	uint32_t serial;
};

/* An interface's firewall: a plain value type, copied freely. */
struct fw_if_config {
	bool enabled;
	uint8_t default_action; /* enum fw_action */
	uint16_t n_rules;
	struct fw_rule rules[FW_MAX_RULES]; /* in match order */
};

/* Counter slots: one per rule slot, then the outcomes no rule decides. */
enum fw_slot {
	FW_SLOT_DEFAULT_ALLOW = FW_MAX_RULES, /* no rule matched; default allow */
	FW_SLOT_DEFAULT_DENY,		      /* no rule matched; default deny: dropped */
	FW_SLOT_REPLY,	   /* denied by rule or default, but a reply to our own flow */
	FW_SLOT_ICMP,	   /* ICMP passed (queries; errors about an allowed flow) */
	FW_SLOT_ICMP_DENY, /* ICMP error about no flow we have or allow: dropped */
	FW_SLOT_MALFORMED, /* TCP/UDP/ICMP header cut short: dropped */
	FW_SLOT_DISABLED,  /* passed because the firewall is off (rs == NULL) */
	FW_SLOT_MAX
};

/* ---- configuration and CLI (control plane) ---- */

/* Runs one `firewall <if> ...` command on @cfg; @argv holds the words after the interface:
 *   default allow|deny          allow|deny <ports>[/tcp|/udp] [from <prefix>]
 *   enable | disable            delete allow|deny <ports>[/tcp|/udp] [from <prefix>]
 * <ports> is a port (0..65535) or a range lo-hi; <prefix> a.b.c.d[/<len>] or an IPv6 address
 * (x:x::x[/<len>]), alone a /32 or /128. A rule without /proto covers TCP and UDP;
 * new rules go last. Returns 0, or a negative errno with @err naming the bad word, @cfg
 * untouched: -EINVAL (syntax), -EEXIST (the same rule is already there), -ENOENT (delete:
 * no such rule), -ENOSPC (FW_MAX_RULES reached). */
int fw_cmd_apply(struct fw_if_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Parses the words of one rule, action first ({"allow", "22/tcp", "from", "1.2.3.0/24"});
 * slot and serial are left zero. 0 or -EINVAL with @err naming the bad word. */
int fw_rule_parse(int argc, char **argv, struct fw_rule *r, char *err, size_t errlen);

/* Appends @r (its match fields) as a new rule: gives it a free slot and a new serial. */
int fw_rule_add(struct fw_if_config *cfg, const struct fw_rule *r, char *err, size_t errlen);

/* True when @a and @b match the same packets with the same action. */
bool fw_rule_same(const struct fw_rule *a, const struct fw_rule *b);

/* The canonical text of a rule, action first ("allow 3478/udp from 198.18.20.0/24"); split
 * on spaces it is an argv fw_cmd_apply takes back. snprintf's contract: returns the length
 * the whole text needs; it was cut short if that is >= @len. */
int fw_rule_format(const struct fw_rule *r, char *buf, size_t len);

/* The index of the first rule that matches, -1 for none (the default decides): the
 * reference the compiled form is tested against, and what a CLI may use to check that an
 * edit keeps its own session reachable before enabling (the spec's SSH safety). */
int fw_config_match(const struct fw_if_config *cfg, uint8_t ipproto, uint32_t src_ip,
	uint16_t dport);

/* fw_config_match for an IPv6 packet from @src (network order). */
int fw_config_match6(const struct fw_if_config *cfg, uint8_t ipproto, const uint8_t src[16],
	uint16_t dport);

/* Whether @cfg, once enabled, would let a TCP/UDP packet from @src_ip to @dport in (rules,
 * then the default; replies aside). */
bool fw_config_allows(const struct fw_if_config *cfg, uint8_t ipproto, uint32_t src_ip,
	uint16_t dport);
bool fw_config_allows6(const struct fw_if_config *cfg, uint8_t ipproto, const uint8_t src[16],
	uint16_t dport);
/* Whether @dport is open to a source the rules do not name, over both families: what the CLI's
 * and the `turn` page's "refused"/"BLOCKED" say. fw_port_state() in words: "allowed",
 * "BLOCKED", or "BLOCKED over IPv6" (IPv4) when one family only is refused. */
bool fw_config_allows_any(const struct fw_if_config *cfg, uint8_t ipproto, uint16_t dport);
const char *fw_port_state(const struct fw_if_config *cfg, uint8_t ipproto, uint16_t dport);

/* ---- counters (written per lcore by the fast path, summed by the control plane) ---- */

struct fw_hit {
	uint64_t pkts;
	uint64_t bytes;
	uint32_t serial; /* the rule these hits belong to; 0 for the fixed slots */
	uint32_t pad[3];
};

/* Zero it before first use (the fixed slots' serial is 0). About 33 KB. */
struct fw_counters {
	struct fw_hit hit[FW_SLOT_MAX];
} __attribute__((aligned(64)));

/* Summing: start a sum for @cfg's current rules, then add each lcore's counters. Hits
 * recorded for a rule since deleted (or for an older rule in the same slot) are left out. */
void fw_counters_sum_init(struct fw_counters *sum, const struct fw_if_config *cfg);
void fw_counters_add(struct fw_counters *sum, const struct fw_counters *one);

/* The `firewall <if>` status page for interface @ifname (NULL: no Interface line), with
 * the hit counters in @sum (NULL: all zero). snprintf's contract, like fw_rule_format. */
int fw_status_format(const char *ifname, const struct fw_if_config *cfg,
	const struct fw_counters *sum, char *buf, size_t len);

/* ---- the compiled rule set ---- */

/* A verdict-table entry: bit 0 allow, bits 1..11 the counter slot; or, with FW_ENT_CHAIN,
 * the index of a chain that decides by source address. */
#define FW_ENT_CHAIN 0x8000u

struct fw_chain {
	uint32_t off; /* first interval in bounds[] / ent[] */
	uint32_t n;   /* intervals: at least 1 */
};

/* An IPv6 address as a number: its first and last 8 bytes, big-endian. */
struct fw_addr6 {
	uint64_t hi;
	uint64_t lo;
};

struct fw_ruleset {
	/* Per destination port, for TCP [0] and UDP [1]: 256 KB, so any rule count costs one
	 * load; only the ports under a `from` rule need a second look. */
	uint16_t port[2][65536];
	uint16_t other; /* IP protocols other than TCP, UDP, ICMP: the default */
	uint32_t n_chains;
	const struct fw_chain *chains;
	/* Each chain cuts the IPv4 source space into intervals where the first matching rule
	 * is the same: bounds[] holds the intervals' first addresses (ascending, the first 0),
	 * ent[] their verdict entries. Found by a branch-free binary search. */
	const uint32_t *bounds;
	const uint16_t *ent;
	uint32_t serial[FW_SLOT_MAX]; /* per slot: the rule's serial, 0 for fixed slots */
	/* The same for IPv6 sources: the rules without `from` and those from IPv6 prefixes. */
	uint16_t port6[2][65536];
	uint32_t n_chains6;
	const struct fw_chain *chains6;
	const struct fw_addr6 *bounds6;
	const uint16_t *ent6;
};

/* Builds the immutable rule set for @cfg (its `enabled` flag is not looked at: publish NULL
 * for a disabled interface). Returns NULL with errno set (ENOMEM, EINVAL for a config whose
 * slots are not distinct, E2BIG for source-prefix layouts too big to tabulate). */
struct fw_ruleset *fw_compile(const struct fw_if_config *cfg);
void fw_ruleset_free(struct fw_ruleset *rs);

/* ---- the flow table: replies to the appliance's own traffic ---- */

#define FW_FLOW_WAYS 4		   /* entries per bucket (two cache lines) */
#define FW_FLOW_UDP_TIMEOUT 60	   /* seconds after the last outbound packet */
#define FW_FLOW_TCP_TIMEOUT 7200   /* established */
#define FW_FLOW_TCP_SYN_TIMEOUT 60 /* our SYN sent, nothing else yet */
#define FW_FLOW_TCP_END_TIMEOUT 30 /* we sent FIN or RST */
#define FW_FLOW_REFRESH 2	   /* an entry is rewritten at most this often (seconds) */

#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_ACK 0x10

struct fw_flow {
	uint32_t seq;	  /* even: stable; odd: a writer is rewriting the entry */
	uint32_t expires; /* in the caller's seconds; <= now (or ports 0): free */
	uint64_t addrs;	  /* remote address << 32 | local address */
	uint64_t ports;	  /* ipproto << 32 | remote port << 16 | local port */
	uint64_t pad;
};

/* An IPv6 flow: the same seqcount, the full addresses (as loaded from the packet's bytes). */
struct fw_flow6 {
	uint32_t seq;
	uint32_t expires;
	uint64_t ports; /* as in struct fw_flow */
	uint64_t remote[2];
	uint64_t local[2];
};

/* Four IPv6 flows behind a line of tags (each way's remote[1], written after the entry): a
 * lookup that finds nothing reads that one line. A tag only filters; the entry decides. */
struct fw_bucket6 {
	uint64_t tag[FW_FLOW_WAYS];
	uint64_t pad[8 - FW_FLOW_WAYS];
	struct fw_flow6 way[FW_FLOW_WAYS];
};

struct fw_flowtab {
	uint32_t mask; /* buckets - 1, in both tables */
	struct fw_flow (*bucket)[FW_FLOW_WAYS];
	struct fw_bucket6 *bucket6;
};

/* A table of about @entries flows (rounded up to a power of two, at least 64), zeroed.
 * NULL with errno set on failure. One table may serve every interface and worker. */
struct fw_flowtab *fw_flowtab_create(uint32_t entries);
void fw_flowtab_free(struct fw_flowtab *ft);

/* Live entries at @now: for status pages (walks the whole table). */
uint32_t fw_flowtab_live(const struct fw_flowtab *ft, uint32_t now);

/* ---- the fast path ---- */

/* A verdict: bits 0..31 as a table entry (bit 0 allow, bits 1..11 the slot), bits 32..63 the
 * deciding rule's serial (0 for the fixed slots), which fw_count needs. */
typedef uint64_t fw_verdict_t;

#define FW_V(slot, allow) ((fw_verdict_t)(((uint32_t)(slot) << 1) | (allow)))

static inline bool fw_allowed(fw_verdict_t v)
{
	return v & 1;
}

/* The counter slot: a rule's slot (< FW_MAX_RULES) or an enum fw_slot. */
static inline unsigned int fw_slot(fw_verdict_t v)
{
	return (uint32_t)v >> 1;
}

static inline uint64_t fw_flow_hash(uint64_t addrs, uint64_t ports)
{
	uint64_t h = addrs * 0x9e3779b97f4a7c15ull ^ ports * 0xc2b2ae3d27d4eb4full;

	return h ^ h >> 31;
}

/* Is (@ipproto, @remote -> @local) a flow the appliance opened, alive at @now? */
static inline bool fw_flow_lookup(const struct fw_flowtab *ft, uint8_t ipproto, uint32_t remote_ip,
	uint16_t remote_port, uint32_t local_ip, uint16_t local_port, uint32_t now)
{
	uint64_t addrs = (uint64_t)remote_ip << 32 | local_ip;
	uint64_t ports = (uint64_t)ipproto << 32 | (uint32_t)remote_port << 16 | local_port;
	const struct fw_flow *b = ft->bucket[(fw_flow_hash(addrs, ports) >> 32) & ft->mask];

	for (int i = 0; i < FW_FLOW_WAYS; i++) {
		const struct fw_flow *f = &b[i];

		/* most entries differ in their addresses: one load tells (a writer caught in the
		 * act here can only cost a miss, never a false hit) */
		if (__atomic_load_n(&f->addrs, __ATOMIC_RELAXED) != addrs)
			continue;
		/* a few looks at most: a writer holds an entry for four stores */
		for (int tries = 0; tries < 4; tries++) {
			/* acquire loads (plain moves on x86) keep the second look at the sequence
			 * after the fields: they are trusted only if no writer came meanwhile */
			uint32_t s1 = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
			uint64_t a = __atomic_load_n(&f->addrs, __ATOMIC_ACQUIRE);
			uint64_t p = __atomic_load_n(&f->ports, __ATOMIC_ACQUIRE);
			uint32_t e = __atomic_load_n(&f->expires, __ATOMIC_ACQUIRE);

			if (!(s1 & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == s1) {
				if (a == addrs && p == ports && (int32_t)(e - now) > 0)
					return true;
				break;
			}
		}
	}
	return false;
}

/* Called by a worker for each packet the appliance itself sends out of an interface (from
 * its kernel mirror or its control plane; not relayed traffic), so that the replies pass a
 * default-deny firewall. @tcp_flags: the TCP header's flags byte (0 for UDP). Other
 * protocols are not tracked. Writes memory only when the entry is new or its timeout moves
 * on by FW_FLOW_REFRESH seconds; a note lost to a concurrent writer is redone by the next
 * packet. */
static inline void fw_flow_note_outbound(struct fw_flowtab *ft, uint8_t ipproto, uint32_t local_ip,
	uint16_t local_port, uint32_t remote_ip, uint16_t remote_port, uint8_t tcp_flags,
	uint32_t now)
{
	uint64_t addrs = (uint64_t)remote_ip << 32 | local_ip;
	uint64_t ports = (uint64_t)ipproto << 32 | (uint32_t)remote_port << 16 | local_port;
	struct fw_flow *b = ft->bucket[(fw_flow_hash(addrs, ports) >> 32) & ft->mask];
	struct fw_flow *victim = NULL;
	uint32_t timeout, expires, s;
	int32_t oldest = INT32_MAX;

	if (ipproto == 17)
		timeout = FW_FLOW_UDP_TIMEOUT;
	else if (ipproto != 6)
		return;
	else if (tcp_flags & (FW_TCP_FIN | FW_TCP_RST))
		timeout = FW_FLOW_TCP_END_TIMEOUT;
	else if ((tcp_flags & (FW_TCP_SYN | FW_TCP_ACK)) == FW_TCP_SYN)
		timeout = FW_FLOW_TCP_SYN_TIMEOUT;
	else
		timeout = FW_FLOW_TCP_TIMEOUT;
	expires = now + timeout;

	/* the entry itself if present, else a free one, else the one closest to expiry */
	for (int i = 0; i < FW_FLOW_WAYS; i++) {
		struct fw_flow *f = &b[i];
		uint64_t p = __atomic_load_n(&f->ports, __ATOMIC_RELAXED);
		/* never used (ports 0) is free whatever the clock reads */
		int32_t left = p ? (int32_t)(__atomic_load_n(&f->expires, __ATOMIC_RELAXED) - now) :
				   INT32_MIN;

		if (p == ports && __atomic_load_n(&f->addrs, __ATOMIC_RELAXED) == addrs) {
			/* never shortened: TCP is not tracked closely enough for that to be safe */
			if (left > 0 && left + FW_FLOW_REFRESH >= (int32_t)timeout)
				return;
			victim = f;
			break;
		}
		if (left < oldest) {
			oldest = left;
			victim = f;
		}
	}
	s = __atomic_load_n(&victim->seq, __ATOMIC_RELAXED);
	if ((s & 1) ||
		!__atomic_compare_exchange_n(&victim->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED))
		return; /* another worker is writing this entry: leave it to them */
	/* release stores: a reader that sees any new field also sees the odd sequence */
	__atomic_store_n(&victim->addrs, addrs, __ATOMIC_RELEASE);
	__atomic_store_n(&victim->ports, ports, __ATOMIC_RELEASE);
	__atomic_store_n(&victim->expires, expires, __ATOMIC_RELEASE);
	__atomic_store_n(&victim->seq, s + 2, __ATOMIC_RELEASE);
}

/* Off the common path: a port under `from` rules, decided by the source address. */
static inline uint32_t fw_chain_lookup(const struct fw_ruleset *rs, uint32_t chain, uint32_t src_ip)
{
	const struct fw_chain *c = &rs->chains[chain];
	const uint32_t *b = rs->bounds + c->off;
	uint32_t n = c->n;

	while (n > 1) {
		uint32_t half = n / 2;

		b = b[half] <= src_ip ? b + half : b;
		n -= half;
	}
	return rs->ent[b - rs->bounds];
}

/* The verdict for a TCP (6) or UDP (17) packet @src_ip:@sport -> @dst_ip:@dport arriving on
 * an interface whose published rule set is @rs (NULL: firewall disabled). @ft may be NULL
 * (no reply tracking). @now: the same seconds fw_flow_note_outbound was given. Other
 * protocols get the default policy (ICMP: use fw_verdict_icmp). */
static inline fw_verdict_t fw_verdict(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint8_t ipproto, uint32_t src_ip, uint32_t dst_ip, uint16_t sport, uint16_t dport,
	uint32_t now)
{
	uint32_t e;

	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (ipproto == 6 || ipproto == 17) {
		e = rs->port[ipproto == 17][dport];
		if (__builtin_expect(e & FW_ENT_CHAIN, 0))
			e = fw_chain_lookup(rs, e & ~FW_ENT_CHAIN, src_ip);
		if (!(e & 1) && ft &&
			fw_flow_lookup(ft, ipproto, src_ip, sport, dst_ip, dport, now))
			return FW_V(FW_SLOT_REPLY, 1);
	} else {
		e = rs->other;
	}
	return (fw_verdict_t)rs->serial[e >> 1] << 32 | e;
}

static inline bool fw_icmp_is_error(uint8_t type)
{
	/* unreachable, source quench, redirect, time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The verdict for an ICMP message @icmp of @len bytes (header included). An error quotes
 * the IP header and first 8 bytes of a packet this appliance sent: it passes if that packet
 * belongs to a flow in @ft, or if the rules would let that flow's replies in. */
static inline fw_verdict_t fw_verdict_icmp(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	const uint8_t *icmp, uint32_t len, uint32_t now)
{
	const uint8_t *in = icmp + 8;
	uint32_t ihl, local, remote;
	uint16_t lport, rport;
	uint8_t proto;

	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (len < 8)
		return FW_V(FW_SLOT_MALFORMED, 0);
	if (!fw_icmp_is_error(icmp[0]))
		return FW_V(FW_SLOT_ICMP, 1);
	if (len < 8 + 20 || (in[0] >> 4) != 4 || (ihl = (in[0] & 0xfu) * 4) < 20 ||
		len < 8 + ihl + 4)
		return FW_V(FW_SLOT_MALFORMED, 0);
	proto = in[9];
	if (proto == 1) /* about our own ICMP: ICMP passes */
		return FW_V(FW_SLOT_ICMP, 1);
	if (proto != 6 && proto != 17)
		return rs->other & 1 ? FW_V(FW_SLOT_ICMP, 1) : FW_V(FW_SLOT_ICMP_DENY, 0);
	local = edge_be32(in + 12);
	remote = edge_be32(in + 16);
	lport = edge_be16(in + ihl);
	rport = edge_be16(in + ihl + 2);
	if (fw_allowed(fw_verdict(rs, ft, proto, remote, local, rport, lport, now)))
		return FW_V(FW_SLOT_ICMP, 1);
	return FW_V(FW_SLOT_ICMP_DENY, 0);
}

/* Everything in one call for the worker: @ip points at a validated IPv4 header (not a
 * fragment) with @len bytes from there to the end of the packet. */
static inline fw_verdict_t fw_verdict_ipv4(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	const void *ip, uint32_t len, uint32_t now)
{
	const uint8_t *h = ip;
	uint32_t ihl = (h[0] & 0xfu) * 4;
	uint8_t proto = h[9];

	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (len < ihl)
		return FW_V(FW_SLOT_MALFORMED, 0);
	if (proto == 6 || proto == 17) {
		if (len < ihl + 4)
			return FW_V(FW_SLOT_MALFORMED, 0);
		return fw_verdict(rs, ft, proto, edge_be32(h + 12), edge_be32(h + 16),
			edge_be16(h + ihl), edge_be16(h + ihl + 2), now);
	}
	if (proto == 1)
		return fw_verdict_icmp(rs, ft, h + ihl, len - ihl, now);
	return (fw_verdict_t)rs->serial[rs->other >> 1] << 32 | rs->other;
}

/* fw_flow_note_outbound() for an outbound IPv4 packet at @ip (@len bytes from there to the
 * end): TCP and UDP are noted, the rest ignored, as are packets cut before their ports. */
static inline void fw_flow_note_ipv4(struct fw_flowtab *ft, const void *ip, uint32_t len,
	uint32_t now)
{
	const uint8_t *h = ip;
	uint32_t ihl = (h[0] & 0xfu) * 4;
	uint8_t proto = h[9];

	if ((proto != 6 && proto != 17) || len < ihl + 4)
		return;
	fw_flow_note_outbound(ft, proto, edge_be32(h + 12), edge_be16(h + ihl), edge_be32(h + 16),
		edge_be16(h + ihl + 2), proto == 6 && len >= ihl + 14 ? h[ihl + 13] : 0, now);
}

/* ---- IPv6: the same, keyed by full addresses ---- */

static inline uint64_t fw_flow_hash6(const uint64_t remote[2], const uint64_t local[2],
	uint64_t ports)
{
	uint64_t a = remote[0] * 0xff51afd7ed558ccdull ^ remote[1] ^
		(local[0] * 0xc4ceb9fe1a85ec53ull ^ local[1]) << 1;

	return fw_flow_hash(a, ports);
}

/* fw_flow_lookup for IPv6: (@ipproto, @remote_ip -> @local_ip), addresses in network order. */
static inline bool fw_flow_lookup6(const struct fw_flowtab *ft, uint8_t ipproto,
	const uint8_t remote_ip[16], uint16_t remote_port, const uint8_t local_ip[16],
	uint16_t local_port, uint32_t now)
{
	const uint64_t r[2] = { rd64(remote_ip), rd64(remote_ip + 8) };
	const uint64_t l[2] = { rd64(local_ip), rd64(local_ip + 8) };
	uint64_t ports = (uint64_t)ipproto << 32 | (uint32_t)remote_port << 16 | local_port;
	const struct fw_bucket6 *b = &ft->bucket6[(fw_flow_hash6(r, l, ports) >> 32) & ft->mask];

	for (int i = 0; i < FW_FLOW_WAYS; i++) {
		const struct fw_flow6 *f = &b->way[i];

		/* the remote's last 8 bytes differ most often: the tag line tells */
		if (__atomic_load_n(&b->tag[i], __ATOMIC_RELAXED) != r[1])
			continue;
		for (int tries = 0; tries < 4; tries++) {
			uint32_t s1 = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
			uint64_t r0 = __atomic_load_n(&f->remote[0], __ATOMIC_ACQUIRE);
			uint64_t r1 = __atomic_load_n(&f->remote[1], __ATOMIC_ACQUIRE);
			uint64_t l0 = __atomic_load_n(&f->local[0], __ATOMIC_ACQUIRE);
			uint64_t l1 = __atomic_load_n(&f->local[1], __ATOMIC_ACQUIRE);
			uint64_t p = __atomic_load_n(&f->ports, __ATOMIC_ACQUIRE);
			uint32_t e = __atomic_load_n(&f->expires, __ATOMIC_ACQUIRE);

			if (!(s1 & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == s1) {
				if (r0 == r[0] && r1 == r[1] && l0 == l[0] && l1 == l[1] &&
					p == ports && (int32_t)(e - now) > 0)
					return true;
				break;
			}
		}
	}
	return false;
}

/* fw_flow_note_outbound for IPv6, addresses in network order. */
static inline void fw_flow_note_outbound6(struct fw_flowtab *ft, uint8_t ipproto,
	const uint8_t local_ip[16], uint16_t local_port, const uint8_t remote_ip[16],
	uint16_t remote_port, uint8_t tcp_flags, uint32_t now)
{
	const uint64_t r[2] = { rd64(remote_ip), rd64(remote_ip + 8) };
	const uint64_t l[2] = { rd64(local_ip), rd64(local_ip + 8) };
	uint64_t ports = (uint64_t)ipproto << 32 | (uint32_t)remote_port << 16 | local_port;
	struct fw_bucket6 *b = &ft->bucket6[(fw_flow_hash6(r, l, ports) >> 32) & ft->mask];
	struct fw_flow6 *victim = NULL;
	uint32_t timeout, expires, s;
	int32_t oldest = INT32_MAX;

	if (ipproto == 17)
		timeout = FW_FLOW_UDP_TIMEOUT;
	else if (ipproto != 6)
		return;
	else if (tcp_flags & (FW_TCP_FIN | FW_TCP_RST))
		timeout = FW_FLOW_TCP_END_TIMEOUT;
	else if ((tcp_flags & (FW_TCP_SYN | FW_TCP_ACK)) == FW_TCP_SYN)
		timeout = FW_FLOW_TCP_SYN_TIMEOUT;
	else
		timeout = FW_FLOW_TCP_TIMEOUT;
	expires = now + timeout;

	for (int i = 0; i < FW_FLOW_WAYS; i++) {
		struct fw_flow6 *f = &b->way[i];
		uint64_t p = __atomic_load_n(&f->ports, __ATOMIC_RELAXED);
		int32_t left = p ? (int32_t)(__atomic_load_n(&f->expires, __ATOMIC_RELAXED) - now) :
				   INT32_MIN;

		if (p == ports && __atomic_load_n(&f->remote[0], __ATOMIC_RELAXED) == r[0] &&
			__atomic_load_n(&f->remote[1], __ATOMIC_RELAXED) == r[1] &&
			__atomic_load_n(&f->local[0], __ATOMIC_RELAXED) == l[0] &&
			__atomic_load_n(&f->local[1], __ATOMIC_RELAXED) == l[1]) {
			if (left > 0 && left + FW_FLOW_REFRESH >= (int32_t)timeout)
				return;
			victim = f;
			break;
		}
		if (left < oldest) {
			oldest = left;
			victim = f;
		}
	}
	s = __atomic_load_n(&victim->seq, __ATOMIC_RELAXED);
	if ((s & 1) ||
		!__atomic_compare_exchange_n(&victim->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED))
		return;
	__atomic_store_n(&victim->remote[0], r[0], __ATOMIC_RELEASE);
	__atomic_store_n(&victim->remote[1], r[1], __ATOMIC_RELEASE);
	__atomic_store_n(&victim->local[0], l[0], __ATOMIC_RELEASE);
	__atomic_store_n(&victim->local[1], l[1], __ATOMIC_RELEASE);
	__atomic_store_n(&victim->ports, ports, __ATOMIC_RELEASE);
	__atomic_store_n(&victim->expires, expires, __ATOMIC_RELEASE);
	__atomic_store_n(&b->tag[victim - b->way], r[1], __ATOMIC_RELEASE);
	__atomic_store_n(&victim->seq, s + 2, __ATOMIC_RELEASE);
}

/* fw_chain_lookup for an IPv6 source. */
static inline uint32_t fw_chain_lookup6(const struct fw_ruleset *rs, uint32_t chain,
	const uint8_t src_ip[16])
{
	const struct fw_chain *c = &rs->chains6[chain];
	const struct fw_addr6 *b = rs->bounds6 + c->off;
	uint64_t hi = edge_be64(src_ip), lo = edge_be64(src_ip + 8);
	uint32_t n = c->n;

	while (n > 1) {
		uint32_t half = n / 2;
		const struct fw_addr6 *m = b + half;

		b = m->hi < hi || (m->hi == hi && m->lo <= lo) ? m : b;
		n -= half;
	}
	return rs->ent6[b - rs->bounds6];
}

/* fw_verdict for an IPv6 TCP (6) or UDP (17) packet, addresses in network order. */
static inline fw_verdict_t fw_verdict6(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint8_t ipproto, const uint8_t src_ip[16], const uint8_t dst_ip[16], uint16_t sport,
	uint16_t dport, uint32_t now)
{
	uint32_t e;

	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (ipproto == 6 || ipproto == 17) {
		e = rs->port6[ipproto == 17][dport];
		if (__builtin_expect(e & FW_ENT_CHAIN, 0))
			e = fw_chain_lookup6(rs, e & ~FW_ENT_CHAIN, src_ip);
		if (!(e & 1) && ft &&
			fw_flow_lookup6(ft, ipproto, src_ip, sport, dst_ip, dport, now))
			return FW_V(FW_SLOT_REPLY, 1);
	} else {
		e = rs->other;
	}
	return (fw_verdict_t)rs->serial[e >> 1] << 32 | e;
}

/* Next-header values of the IPv6 extension headers (RFC 8200 and the IANA registry). */
static inline bool fw_ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 || nh == 135 ||
		nh == 139 || nh == 140 || nh == 253 || nh == 254;
}

/* fw_verdict_icmp for an ICMPv6 message @icmp of @len bytes. Types 128 and up are
 * informational and pass; below 128 are errors (RFC 4443 2.1; 1..4 are the ones defined),
 * which quote the IPv6 header and the start of a packet this appliance sent. */
static inline fw_verdict_t fw_verdict_icmp6(const struct fw_ruleset *rs,
	const struct fw_flowtab *ft, const uint8_t *icmp, uint32_t len, uint32_t now)
{
	const uint8_t *in = icmp + 8;
	uint16_t lport, rport;
	uint8_t proto;

	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (len < 8)
		return FW_V(FW_SLOT_MALFORMED, 0);
	if (icmp[0] >= 128)
		return FW_V(FW_SLOT_ICMP, 1);
	if (len < 8 + 40 || (in[0] >> 4) != 6)
		return FW_V(FW_SLOT_MALFORMED, 0);
	proto = in[6];
	if (proto == 58) /* about our own ICMPv6: ICMPv6 passes */
		return FW_V(FW_SLOT_ICMP, 1);
	if (fw_ipv6_is_ext(proto)) /* its ports are further in: not looked for */
		return FW_V(FW_SLOT_ICMP_DENY, 0);
	if (proto != 6 && proto != 17)
		return rs->other & 1 ? FW_V(FW_SLOT_ICMP, 1) : FW_V(FW_SLOT_ICMP_DENY, 0);
	if (len < 8 + 40 + 4)
		return FW_V(FW_SLOT_MALFORMED, 0);
	lport = edge_be16(in + 40);
	rport = edge_be16(in + 42);
	/* quoted: our packet, source (in + 8) us, destination (in + 24) the remote */
	if (fw_allowed(fw_verdict6(rs, ft, proto, in + 24, in + 8, rport, lport, now)))
		return FW_V(FW_SLOT_ICMP, 1);
	return FW_V(FW_SLOT_ICMP_DENY, 0);
}

/* Everything in one call for the worker, for IPv6: @src and @dst from the IPv6 header
 * (network order), @proto the upper-layer protocol found after any extension headers (TCP
 * 6, UDP 17, ICMPv6 58, ...), @l4 its header with @l4_len bytes from there to the end. */
static inline fw_verdict_t fw_verdict_ipv6(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	const uint8_t src[16], const uint8_t dst[16], uint8_t proto, const uint8_t *l4,
	unsigned int l4_len, uint32_t now)
{
	if (!rs)
		return FW_V(FW_SLOT_DISABLED, 1);
	if (proto == 6 || proto == 17) {
		if (l4_len < 4)
			return FW_V(FW_SLOT_MALFORMED, 0);
		return fw_verdict6(rs, ft, proto, src, dst, edge_be16(l4), edge_be16(l4 + 2), now);
	}
	if (proto == 58)
		return fw_verdict_icmp6(rs, ft, l4, l4_len, now);
	return (fw_verdict_t)rs->serial[rs->other >> 1] << 32 | rs->other;
}

/* fw_flow_note_ipv4 for an outbound IPv6 packet, its upper layer as fw_verdict_ipv6 takes
 * it: TCP and UDP are noted, the rest ignored, as are packets cut before their ports. */
static inline void fw_flow_note_ipv6(struct fw_flowtab *ft, const uint8_t src[16],
	const uint8_t dst[16], uint8_t proto, const uint8_t *l4, unsigned int l4_len, uint32_t now)
{
	if ((proto != 6 && proto != 17) || l4_len < 4)
		return;
	fw_flow_note_outbound6(ft, proto, src, edge_be16(l4), dst, edge_be16(l4 + 2),
		proto == 6 && l4_len >= 14 ? l4[13] : 0, now);
}

/* Counts a packet of @bytes under its verdict in this lcore's @c. A slot taken over by a
 * new rule restarts from zero the first time this lcore sees the new rule's serial. */
static inline void fw_count(struct fw_counters *c, fw_verdict_t v, uint32_t bytes)
{
	struct fw_hit *h = &c->hit[fw_slot(v)];
	uint32_t serial = (uint32_t)(v >> 32);
	uint64_t pkts = 0, octets = 0;

	/* relaxed atomics: plain moves on x86, but a reader summing meanwhile is no data race */
	if (__builtin_expect(__atomic_load_n(&h->serial, __ATOMIC_RELAXED) == serial, 1)) {
		pkts = __atomic_load_n(&h->pkts, __ATOMIC_RELAXED);
		octets = __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&h->pkts, pkts + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->bytes, octets + bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&h->serial, serial, __ATOMIC_RELEASE);
}

#endif
