/* The firewall's operator side: the `firewall <if> ...` commands, the text of a rule (what the
 * configuration file keeps), the status page, and the sum of the per-lcore hit counters.
 * Everything here runs in the control plane; the fast path is in fw.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "fw.h"

/* Serials are unique in the process, not per interface, so a configuration rebuilt from
 * scratch never hands an old rule's hits to a new one. 0 is never issued. */
static uint32_t fw_serial_last;

static uint32_t fw_serial_next(void)
{
	uint32_t s;

	do
		s = __atomic_add_fetch(&fw_serial_last, 1, __ATOMIC_RELAXED);
	while (s == 0);
	return s;
}

static int fw_refuse(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fw_refuse(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A decimal number of at most @max with nothing else: "22" yes; "", "+1", "022x" no. */
static bool fw_number(const char *s, size_t n, uint32_t max, uint32_t *v)
{
	uint32_t x = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint32_t)(s[i] - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

/* <port>[-<port>][/tcp|/udp] */
static int fw_parse_ports(const char *w, struct fw_rule *r, char *err, size_t errlen)
{
	const char *slash = strchr(w, '/');
	size_t n = slash ? (size_t)(slash - w) : strlen(w);
	const char *dash = memchr(w, '-', n);
	uint32_t lo, hi;

	if (dash) {
		if (!fw_number(w, (size_t)(dash - w), 65535, &lo) ||
			!fw_number(dash + 1, n - (size_t)(dash - w) - 1, 65535, &hi))
			goto bad;
		if (lo > hi)
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: '%s': port range runs backwards", w);
	} else {
		if (!fw_number(w, n, 65535, &lo))
			goto bad;
		hi = lo;
	}
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	if (!slash)
		r->protos = FW_PROTO_BOTH;
	else if (!strcmp(slash + 1, "tcp"))
		r->protos = FW_PROTO_TCP;
	else if (!strcmp(slash + 1, "udp"))
		r->protos = FW_PROTO_UDP;
	else
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s': protocol must be tcp or udp (no /proto: both)", w);
	return 0;
bad:
	return fw_refuse(err, errlen, -EINVAL,
		"firewall: '%s': not a port or port range (0..65535)", w);
}

/* x:x::x[/len], host bits zero */
static int fw_parse_prefix6(const char *w, struct fw_rule *r, char *err, size_t errlen)
{
	const char *slash = strchr(w, '/');
	char addr[INET6_ADDRSTRLEN], fix[INET6_ADDRSTRLEN];
	size_t n = slash ? (size_t)(slash - w) : strlen(w);
	uint8_t a[16], masked[16];
	uint32_t len = 128;
	bool host = false;

	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, w, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1)
		goto bad;
	if (slash && !fw_number(slash + 1, strlen(slash + 1), 128, &len))
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s': prefix length must be 0..128", w);
	for (unsigned int i = 0; i < 16; i++) {
		uint32_t bits = len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);

		masked[i] = a[i] & mask;
		host |= masked[i] != a[i];
	}
	if (host) {
		inet_ntop(AF_INET6, masked, fix, sizeof(fix));
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s': host bits set (the prefix is %s/%u)", w, fix, len);
	}
	r->has_src = 1;
	r->src_family = FW_SRC_IPV6;
	memcpy(r->src6, a, 16);
	r->src_len = (uint8_t)len;
	return 0;
bad:
	return fw_refuse(err, errlen, -EINVAL,
		"firewall: '%s': not an IPv6 address or prefix (x:x::x[/len])", w);
}

/* a.b.c.d[/len], host bits zero; or an IPv6 one */
static int fw_parse_prefix(const char *w, struct fw_rule *r, char *err, size_t errlen)
{
	const char *slash = strchr(w, '/');
	char addr[INET_ADDRSTRLEN], fix[INET_ADDRSTRLEN];
	size_t n = slash ? (size_t)(slash - w) : strlen(w);
	struct in_addr a;
	uint32_t len = 32, host, mask;

	if (memchr(w, ':', n))
		return fw_parse_prefix6(w, r, err, errlen);
	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, w, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		goto bad;
	if (slash && !fw_number(slash + 1, strlen(slash + 1), 32, &len))
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s': prefix length must be 0..32", w);
	host = ntohl(a.s_addr);
	mask = len ? ~0u << (32 - len) : 0;
	if (host & ~mask) {
		a.s_addr = htonl(host & mask);
		inet_ntop(AF_INET, &a, fix, sizeof(fix));
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s': host bits set (the prefix is %s/%u)", w, fix, len);
	}
	r->has_src = 1;
	r->src_family = FW_SRC_IPV4;
	r->src_addr = host;
	r->src_len = (uint8_t)len;
	return 0;
bad:
	return fw_refuse(err, errlen, -EINVAL,
		"firewall: '%s': not an IPv4 address or prefix (a.b.c.d[/len])", w);
}

int fw_rule_parse(int argc, char **argv, struct fw_rule *r, char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		return fw_refuse(err, errlen, -EINVAL, "firewall: missing allow or deny");
	if (!strcmp(argv[0], "allow"))
		r->action = FW_ALLOW;
	else if (!strcmp(argv[0], "deny"))
		r->action = FW_DENY;
	else
		return fw_refuse(err, errlen, -EINVAL, "firewall: '%s': expected allow or deny",
			argv[0]);
	if (argc < 2)
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: '%s' needs a port or port range, e.g. 22, 3478/udp, "
			"32768-65535/udp",
			argv[0]);
	rc = fw_parse_ports(argv[1], r, err, errlen);
	if (rc)
		return rc;
	if (argc == 2)
		return 0;
	if (strcmp(argv[2], "from"))
		return fw_refuse(err, errlen, -EINVAL, "firewall: '%s': expected 'from <prefix>'",
			argv[2]);
	if (argc == 3)
		return fw_refuse(err, errlen, -EINVAL,
			"firewall: 'from' needs an IPv4 or IPv6 address or prefix");
	rc = fw_parse_prefix(argv[3], r, err, errlen);
	if (rc)
		return rc;
	if (argc > 4)
		return fw_refuse(err, errlen, -EINVAL, "firewall: '%s': unexpected word", argv[4]);
	return 0;
}

bool fw_rule_same(const struct fw_rule *a, const struct fw_rule *b)
{
	if (a->action != b->action || a->protos != b->protos || a->port_lo != b->port_lo ||
		a->port_hi != b->port_hi || !!a->has_src != !!b->has_src)
		return false;
	if (!a->has_src)
		return true;
	if (a->src_family != b->src_family || a->src_len != b->src_len)
		return false;
	return a->src_family == FW_SRC_IPV6 ? !memcmp(a->src6, b->src6, 16) :
					      a->src_addr == b->src_addr;
}

int fw_rule_format(const struct fw_rule *r, char *buf, size_t len)
{
	char ports[16], from[64] = "", a6[INET6_ADDRSTRLEN];
	const char *proto = r->protos == FW_PROTO_TCP ? "/tcp" :
		r->protos == FW_PROTO_UDP	      ? "/udp" :
							"";

	if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), "%u", r->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	if (r->has_src && r->src_family == FW_SRC_IPV6)
		snprintf(from, sizeof(from), " from %s/%u",
			inet_ntop(AF_INET6, r->src6, a6, sizeof(a6)) ? a6 : "::", r->src_len);
	else if (r->has_src)
		snprintf(from, sizeof(from), " from %u.%u.%u.%u/%u", r->src_addr >> 24,
			r->src_addr >> 16 & 0xff, r->src_addr >> 8 & 0xff, r->src_addr & 0xff,
			r->src_len);
	return snprintf(buf, len, "%s %s%s%s", r->action == FW_ALLOW ? "allow" : "deny", ports,
		proto, from);
}

int fw_rule_add(struct fw_if_config *cfg, const struct fw_rule *r, char *err, size_t errlen)
{
	uint64_t used[FW_MAX_RULES / 64] = { 0 };
	char text[FW_RULE_TEXT_MAX];
	struct fw_rule *nr;
	unsigned int slot;

	fw_rule_format(r, text, sizeof(text));
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		if (fw_rule_same(&cfg->rules[i], r))
			return fw_refuse(err, errlen, -EEXIST, "firewall: '%s': already rule %u",
				text, i + 1);
		if (cfg->rules[i].slot < FW_MAX_RULES)
			used[cfg->rules[i].slot / 64] |= 1ull << (cfg->rules[i].slot % 64);
	}
	if (cfg->n_rules >= FW_MAX_RULES)
		return fw_refuse(err, errlen, -ENOSPC, "firewall: '%s': no room (%u rules at most)",
			text, FW_MAX_RULES);
	for (slot = 0; used[slot / 64] & (1ull << (slot % 64)); slot++)
		;
	nr = &cfg->rules[cfg->n_rules++];
	*nr = *r;
	nr->has_src = !!r->has_src;
	if (!nr->has_src) { /* what a rule without `from` leaves there means nothing */
		nr->src_len = 0;
		nr->src_addr = 0;
		nr->src_family = FW_SRC_IPV4;
		memset(nr->src6, 0, sizeof(nr->src6));
	}
	nr->slot = (uint16_t)slot;
	nr->serial = fw_serial_next();
	return 0;
}

static int fw_rule_delete(struct fw_if_config *cfg, const struct fw_rule *r, char *err,
	size_t errlen)
{
	char text[FW_RULE_TEXT_MAX];

	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		if (!fw_rule_same(&cfg->rules[i], r))
			continue;
		memmove(&cfg->rules[i], &cfg->rules[i + 1],
			(cfg->n_rules - i - 1) * sizeof(cfg->rules[0]));
		cfg->n_rules--;
		return 0;
	}
	fw_rule_format(r, text, sizeof(text));
	return fw_refuse(err, errlen, -ENOENT, "firewall: delete: no rule '%s'", text);
}

int fw_cmd_apply(struct fw_if_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	static const char cmds[] = "default, allow, deny, delete, enable, disable";
	struct fw_rule r;
	int rc;

	if (argc < 1)
		return fw_refuse(err, errlen, -EINVAL, "firewall: missing command (%s)", cmds);
	if (!strcmp(argv[0], "enable") || !strcmp(argv[0], "disable")) {
		if (argc > 1)
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: '%s': unexpected after '%s'", argv[1], argv[0]);
		cfg->enabled = argv[0][0] == 'e';
		return 0;
	}
	if (!strcmp(argv[0], "default")) {
		if (argc < 2)
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: 'default' needs allow or deny");
		if (strcmp(argv[1], "allow") && strcmp(argv[1], "deny"))
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: '%s': default must be allow or deny", argv[1]);
		if (argc > 2)
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: '%s': unexpected after 'default %s'", argv[2], argv[1]);
		cfg->default_action = argv[1][0] == 'a' ? FW_ALLOW : FW_DENY;
		return 0;
	}
	if (!strcmp(argv[0], "allow") || !strcmp(argv[0], "deny")) {
		rc = fw_rule_parse(argc, argv, &r, err, errlen);
		return rc ? rc : fw_rule_add(cfg, &r, err, errlen);
	}
	if (!strcmp(argv[0], "delete")) {
		if (argc < 2)
			return fw_refuse(err, errlen, -EINVAL,
				"firewall: 'delete' needs the rule, e.g. delete deny 22");
		rc = fw_rule_parse(argc - 1, argv + 1, &r, err, errlen);
		return rc ? rc : fw_rule_delete(cfg, &r, err, errlen);
	}
	return fw_refuse(err, errlen, -EINVAL, "firewall: '%s': not a firewall command (%s)",
		argv[0], cmds);
}

int fw_config_match(const struct fw_if_config *cfg, uint8_t ipproto, uint32_t src_ip,
	uint16_t dport)
{
	unsigned int bit = ipproto == 6 ? FW_PROTO_TCP : ipproto == 17 ? FW_PROTO_UDP : 0;

	for (unsigned int i = 0; bit && i < cfg->n_rules; i++) {
		const struct fw_rule *r = &cfg->rules[i];
		uint32_t mask =
			r->src_family == FW_SRC_IPV4 && r->src_len ? ~0u << (32 - r->src_len) : 0;

		if ((r->protos & bit) && dport >= r->port_lo && dport <= r->port_hi &&
			(!r->has_src ||
				(r->src_family == FW_SRC_IPV4 && (src_ip & mask) == r->src_addr)))
			return (int)i;
	}
	return -1;
}

/* Whether @a is in the @len-bit prefix @p: the plain way, byte by byte. */
static bool fw_in_prefix6(const uint8_t p[16], unsigned int len, const uint8_t a[16])
{
	for (unsigned int i = 0; i < 16 && len; i++) {
		unsigned int bits = len < 8 ? len : 8;
		uint8_t mask = (uint8_t)(0xff00u >> bits);

		if ((a[i] & mask) != p[i])
			return false;
		len -= bits;
	}
	return true;
}

int fw_config_match6(const struct fw_if_config *cfg, uint8_t ipproto, const uint8_t src[16],
	uint16_t dport)
{
	unsigned int bit = ipproto == 6 ? FW_PROTO_TCP : ipproto == 17 ? FW_PROTO_UDP : 0;

	for (unsigned int i = 0; bit && i < cfg->n_rules; i++) {
		const struct fw_rule *r = &cfg->rules[i];

		if ((r->protos & bit) && dport >= r->port_lo && dport <= r->port_hi &&
			(!r->has_src ||
				(r->src_family == FW_SRC_IPV6 &&
					fw_in_prefix6(r->src6, r->src_len, src))))
			return (int)i;
	}
	return -1;
}

bool fw_config_allows6(const struct fw_if_config *cfg, uint8_t ipproto, const uint8_t src[16],
	uint16_t dport)
{
	int i = fw_config_match6(cfg, ipproto, src, dport);

	return (i >= 0 ? cfg->rules[i].action : cfg->default_action) == FW_ALLOW;
}

bool fw_config_allows(const struct fw_if_config *cfg, uint8_t ipproto, uint32_t src_ip,
	uint16_t dport)
{
	int i = fw_config_match(cfg, ipproto, src_ip, dport);

	return (i >= 0 ? cfg->rules[i].action : cfg->default_action) == FW_ALLOW;
}

bool fw_config_allows_any(const struct fw_if_config *cfg, uint8_t ipproto, uint16_t dport)
{
	static const uint8_t any6[16];

	return fw_config_allows(cfg, ipproto, 0, dport) &&
		fw_config_allows6(cfg, ipproto, any6, dport);
}

const char *fw_port_state(const struct fw_if_config *cfg, uint8_t ipproto, uint16_t dport)
{
	static const uint8_t any6[16];
	bool v4 = fw_config_allows(cfg, ipproto, 0, dport);
	bool v6 = fw_config_allows6(cfg, ipproto, any6, dport);

	return v4 && v6 ? "allowed" :
		v4	? "BLOCKED over IPv6" :
		v6	? "BLOCKED over IPv4" :
			  "BLOCKED";
}

void fw_counters_sum_init(struct fw_counters *sum, const struct fw_if_config *cfg)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < cfg->n_rules; i++)
		if (cfg->rules[i].slot < FW_MAX_RULES)
			sum->hit[cfg->rules[i].slot].serial = cfg->rules[i].serial;
}

void fw_counters_add(struct fw_counters *sum, const struct fw_counters *one)
{
	for (unsigned int s = 0; s < FW_SLOT_MAX; s++) {
		const struct fw_hit *h = &one->hit[s];

		/* the serial first: hits read after it belong to it or to a later packet */
		if (__atomic_load_n(&h->serial, __ATOMIC_ACQUIRE) != sum->hit[s].serial)
			continue;
		sum->hit[s].pkts += __atomic_load_n(&h->pkts, __ATOMIC_RELAXED);
		sum->hit[s].bytes += __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
	}
}

/* snprintf into a fixed buffer, keeping the length the whole text needs */
struct fw_out {
	char *buf;
	size_t len;
	size_t need;
};

static void fw_out(struct fw_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fw_out(struct fw_out *o, const char *fmt, ...)
{
	size_t at = o->need < o->len ? o->need : o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + at : NULL, o->len - at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

int fw_status_format(const char *ifname, const struct fw_if_config *cfg,
	const struct fw_counters *sum, char *buf, size_t len)
{
	static const struct fw_hit none;
	struct fw_out o = { buf, len, 0 };
	uint64_t rule_drops = 0;
	int width = 0, numw = cfg->n_rules >= 1000 ? 4 : 3;
	char text[FW_RULE_TEXT_MAX];

#define HIT(slot) (sum ? &sum->hit[(slot)] : &none)
	if (buf && len)
		buf[0] = '\0';
	if (ifname)
		fw_out(&o, "Interface               : %s\n", ifname);
	fw_out(&o, "Enabled                 : %s\n", cfg->enabled ? "true" : "false");
	fw_out(&o, "Default policy          : %s\n",
		cfg->default_action == FW_ALLOW ? "allow" : "deny");
	if (!cfg->n_rules)
		fw_out(&o, "Rules                   : none\n");
	else
		fw_out(&o, "Rules                   : %u\n", cfg->n_rules);
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		int n;

		fw_rule_format(&cfg->rules[i], text, sizeof(text));
		n = (int)strlen(strchr(text, ' ') + 1);
		if (n > width)
			width = n;
	}
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		const struct fw_rule *r = &cfg->rules[i];
		const struct fw_hit *h = r->slot < FW_MAX_RULES ? HIT(r->slot) : &none;

		fw_rule_format(r, text, sizeof(text));
		/* the action in a column of its own, so that the ports line up */
		fw_out(&o, "%*u  %-5s  %-*s  packets %llu bytes %llu\n", numw, i + 1,
			r->action == FW_ALLOW ? "allow" : "deny", width, strchr(text, ' ') + 1,
			(unsigned long long)h->pkts, (unsigned long long)h->bytes);
		if (r->action == FW_DENY)
			rule_drops += h->pkts;
	}
	fw_out(&o, "Passed by default       : %llu\n",
		(unsigned long long)HIT(FW_SLOT_DEFAULT_ALLOW)->pkts);
	fw_out(&o, "Replies let in          : %llu\n",
		(unsigned long long)HIT(FW_SLOT_REPLY)->pkts);
	fw_out(&o, "ICMP passed             : %llu\n", (unsigned long long)HIT(FW_SLOT_ICMP)->pkts);
	fw_out(&o, "Dropped by rules        : %llu\n", (unsigned long long)rule_drops);
	fw_out(&o, "Dropped by default      : %llu\n",
		(unsigned long long)HIT(FW_SLOT_DEFAULT_DENY)->pkts);
	fw_out(&o, "Dropped ICMP errors     : %llu\n",
		(unsigned long long)HIT(FW_SLOT_ICMP_DENY)->pkts);
	fw_out(&o, "Dropped malformed       : %llu\n",
		(unsigned long long)HIT(FW_SLOT_MALFORMED)->pkts);
#undef HIT
	return o.need > INT32_MAX ? -EOVERFLOW : (int)o.need;
}
