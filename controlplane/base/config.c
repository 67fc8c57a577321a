/* Configuration: libconfig file <-> struct edge_cfg, and the validated edits the CLI makes.
 * The file is the single source of truth across restarts; every live change is saved back. */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "edge_config.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

void cfg_defaults(struct edge_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->cores, sizeof(cfg->cores), "0,1");
	cfg->memory_mb = 256;
	cfg->burst = EDGE_DEFAULT_BURST;
	cfg->idle_sleep_us = 200;
	cfg->arp_timeout_s = 300;
	snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "/run/edge/edged.sock");
	cfg->log_target = LOG_TARGET_STDERR;
	cfg->log_level = LOG_INFO;
	cfg->default_if = -1;
	snprintf(cfg->cert_dir, sizeof(cfg->cert_dir), "/var/lib/edge/certs");
	cfg->turn.port = 3478;
	cfg->turn.browser_port = 443;
	cfg->turn.high_capacity = true;
	cfg->turn.relay_lo = 49152;
	cfg->turn.relay_hi = 65535;
	cfg->turn.lifetime_max = 3600;
	cfg->turn.max_conns = 16384;
	cfg->turn.max_conns_per_addr = 1024;
	cfg->turn.handshake_timeout = 10;
	cfg->turn.idle_timeout = 60;
	cfg->role = EDGE_ROLE_BOTH;
	cfg->wb3.audio_priority = true;
	cfg->cb.enabled = true;
	cfg->cb.prefer_if = -1;
	cfg->cb.jwt_expiry_hours = 24;
	snprintf(cfg->cb.db_path, sizeof(cfg->cb.db_path), "/var/lib/edge/callbridge.db");
	cfg->webadmin.ifi = -1;
	cfg->metrics.ifi = -1;
	cfg->metrics.port = 9100;
	cfg->webadmin.port = 443;
}

const char *cfg_tcp_port_owner(const struct edge_cfg *cfg, int ifi, uint16_t port)
{
	const struct cfg_webbridge3 *w = &cfg->wb3;

	/* by role, as cli_web.c's claims_of() counts them */
	for (int i = 0; cfg->role != EDGE_ROLE_CORE && i < w->n_https; i++) {
		if (w->https[i].ifi == ifi && w->https[i].port == port)
			return "webbridge3 HTTPS";
		if (w->http_redirect && w->https[i].ifi == ifi && port == 80)
			return "webbridge3 HTTP redirect";
	}
	for (int i = 0; cfg->role != EDGE_ROLE_CORE && i < w->n_c2w; i++)
		if (w->c2w[i].ifi == ifi && w->c2w[i].port == port)
			return "webbridge3 C2W";
	if (cfg->role != EDGE_ROLE_EDGE && cfg->webadmin.ifi == ifi) {
		if (cfg->webadmin.port == port)
			return "webadmin";
		if (cfg->webadmin.http_redirect && port == 80)
			return "webadmin HTTP redirect";
	}
	return NULL;
}

bool cfg_turn_browser_ok(uint16_t port)
{
	return port == 53 || port == 80 || port == 443;
}

uint8_t cfg_turn_browser_tcp_mask(const struct edge_cfg *cfg)
{
	const struct cfg_turn *t = &cfg->turn;
	uint8_t mask = 0;

	if (!t->browser_port || t->browser_port == t->port)
		return 0;
	for (int i = 0; i < cfg->n_ifs; i++)
		if ((t->listen_mask & (1u << i)) && !cfg_tcp_port_owner(cfg, i, t->browser_port))
			mask |= (uint8_t)(1u << i);
	return mask;
}

int cfg_turn_relay_if(const struct cfg_turn *t)
{
	return t->listen_mask ? __builtin_ctz(t->listen_mask) : -1;
}

int cfg_media_in_relay(const struct edge_cfg *cfg)
{
	int rif = cfg_turn_relay_if(&cfg->turn);

	for (int i = 0; i < cfg->cb.n_media; i++)
		if (cfg->cb.media[i].ifi == rif && cfg->cb.media[i].port >= cfg->turn.relay_lo &&
			cfg->cb.media[i].port <= cfg->turn.relay_hi)
			return i;
	return -1;
}

/* --- TURN's peer policy --- */

static uint32_t prefix_mask(uint8_t prefix);

#define NET4(a, b, c, d) __builtin_bswap32((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "NET4 assumes a little-endian host");

/* Private and special-purpose ranges (RFC 6890): the networks behind an edge, or nobody's. */
const struct cfg_prefix cfg_turn_special[] = {
	{ NET4(10, 0, 0, 0), 8 },      /* RFC 1918 */
	{ NET4(100, 64, 0, 0), 10 },   /* carrier-grade NAT, RFC 6598 */
	{ NET4(169, 254, 0, 0), 16 },  /* link-local */
	{ NET4(172, 16, 0, 0), 12 },   /* RFC 1918 */
	{ NET4(192, 0, 0, 0), 24 },    /* IETF protocol assignments */
	{ NET4(192, 0, 2, 0), 24 },    /* TEST-NET-1 */
	{ NET4(192, 168, 0, 0), 16 },  /* RFC 1918 */
	{ NET4(198, 18, 0, 0), 15 },   /* benchmarking, RFC 2544 */
	{ NET4(198, 51, 100, 0), 24 }, /* TEST-NET-2 */
	{ NET4(203, 0, 113, 0), 24 },  /* TEST-NET-3 */
	{ NET4(240, 0, 0, 0), 4 },     /* reserved */
};
const int cfg_turn_n_special = sizeof(cfg_turn_special) / sizeof(cfg_turn_special[0]);

bool cfg_prefix_has(const struct cfg_prefix *p, uint32_t ip)
{
	return (ip & prefix_mask(p->len)) == (p->addr & prefix_mask(p->len));
}

static bool in_any(const struct cfg_prefix *p, int n, uint32_t ip)
{
	for (int i = 0; i < n; i++)
		if (cfg_prefix_has(&p[i], ip))
			return true;
	return false;
}

/* One of our own addresses; *@relay when it is the relay address (or the public one). */
static bool own_address(const struct edge_cfg *cfg, uint32_t ip, bool *relay)
{
	int rif = cfg_turn_relay_if(&cfg->turn);

	*relay = ip == cfg->turn.public_ip ||
		(rif >= 0 && rif < cfg->n_ifs && cfg->ifs[rif].n_addrs &&
			cfg->ifs[rif].addrs[0].addr == ip);
	if (*relay)
		return true;
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int k = 0; k < cfg->ifs[i].n_addrs; k++)
			if (cfg->ifs[i].addrs[k].addr == ip)
				return true;
	return false;
}

/* The network or broadcast address of a connected subnet (/31 and /32 have none). */
static bool subnet_edge(const struct edge_cfg *cfg, uint32_t ip)
{
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int k = 0; k < cfg->ifs[i].n_addrs; k++) {
			const struct cfg_ipv4 *a = &cfg->ifs[i].addrs[k];
			uint32_t m = prefix_mask(a->prefix);

			if (a->prefix <= 30 && (ip & m) == (a->addr & m) &&
				((ip & ~m) == 0 || (ip | m) == ~0u))
				return true;
		}
	return false;
}

/* On a subnet or a static route of an interface that does not hold the default route. */
static bool internal_net(const struct edge_cfg *cfg, uint32_t ip)
{
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];

		if (i == cfg->default_if)
			continue;
		for (int k = 0; k < ifc->n_addrs; k++)
			if (((ip ^ ifc->addrs[k].addr) & prefix_mask(ifc->addrs[k].prefix)) == 0)
				return true;
		for (int k = 0; k < ifc->n_routes; k++)
			if (((ip ^ ifc->routes[k].net) & prefix_mask(ifc->routes[k].prefix)) == 0)
				return true;
	}
	return false;
}

enum cfg_peer_verdict cfg_turn_peer_verdict(const struct edge_cfg *cfg, uint32_t ip, uint16_t port)
{
	const struct cfg_turn *t = &cfg->turn;
	uint32_t h = ntohl(ip), p = ntohs(port);
	bool relay;

	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 14 || h == ~0u ||
		subnet_edge(cfg, ip))
		return CFG_PEER_NEVER;
	/* a hairpin to another allocation's relayed address is the one own address a peer
	 * may have (DESIGN: media legs through our own relay) */
	if (own_address(cfg, ip, &relay) && !(relay && p && p >= t->relay_lo && p <= t->relay_hi))
		return CFG_PEER_NEVER;
	if (in_any(t->denied, t->n_denied, ip))
		return CFG_PEER_DENIED;
	if (in_any(t->allowed, t->n_allowed, ip))
		return CFG_PEER_ALLOWED;
	if (in_any(cfg_turn_special, cfg_turn_n_special, ip))
		return CFG_PEER_SPECIAL;
	if (internal_net(cfg, ip))
		return CFG_PEER_INTERNAL;
	return CFG_PEER_OK;
}

/* --- TURN's peer policy for IPv6 (issue 18): the same steps, the family's own ranges --- */

static bool v6_in(const uint8_t a[16], const uint8_t net[16], unsigned prefix);
static void v6_net(const uint8_t a[16], unsigned prefix, uint8_t out[16]);
static bool v6_link_local(const uint8_t a[16]);

/* Special-purpose ranges (RFC 6890 and its IANA registry): nobody's, or the networks
 * behind an edge. */
const struct cfg_prefix6 cfg_turn_special6[] = {
	{ { 0xfc }, 7 },			  /* unique-local, RFC 4193 */
	{ { 0xfe, 0xc0 }, 10 },			  /* site-local, deprecated by RFC 3879 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },	  /* documentation, RFC 3849 */
	{ { 0x3f, 0xff }, 20 },			  /* documentation, RFC 9637 */
	{ { 0x01, 0x00 }, 64 },			  /* discard-only, RFC 6666 */
	{ { 0x20, 0x01 }, 23 },			  /* IETF protocol assignments, RFC 2928: Teredo
					       * (RFC 4380), benchmarking 2001:2::/48 (RFC 5180),
					       * ORCHIDv2 (RFC 7343) */
	{ { 0x00, 0x64, 0xff, 0x9b, 0, 1 }, 48 }, /* local-use NAT64, RFC 8215 */
};
const int cfg_turn_n_special6 = sizeof(cfg_turn_special6) / sizeof(cfg_turn_special6[0]);

bool cfg_prefix6_has(const struct cfg_prefix6 *p, const uint8_t ip[16])
{
	return v6_in(ip, p->addr, p->len);
}

struct cfg_prefix6 cfg_prefix6_of(const uint8_t a[16], uint8_t len)
{
	struct cfg_prefix6 p = { .len = len };

	v6_net(a, len, p.addr);
	return p;
}

static bool in_any6(const struct cfg_prefix6 *p, int n, const uint8_t ip[16])
{
	for (int i = 0; i < n; i++)
		if (cfg_prefix6_has(&p[i], ip))
			return true;
	return false;
}

/* The IPv4 address inside a NAT64 (64:ff9b::/96, RFC 6052) or 6to4 (2002::/16, RFC 3056)
 * address, into *@v4 (network order). */
static bool embedded_v4(const uint8_t ip[16], uint32_t *v4)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (!memcmp(ip, nat64, 12))
		memcpy(v4, ip + 12, 4);
	else if (ip[0] == 0x20 && ip[1] == 0x02)
		memcpy(v4, ip + 2, 4);
	else
		return false;
	return true;
}

/* Never a peer on the wire: ::/96 (::, ::1, IPv4-compatible), IPv4-mapped, multicast,
 * link-local. */
static bool never6(const uint8_t ip[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t compat[12];

	return !memcmp(ip, compat, 12) || !memcmp(ip, mapped, 12) || ip[0] == 0xff ||
		v6_link_local(ip);
}

/* own_address() for IPv6: one of our addresses, or the subnet-router anycast address of one
 * of our prefixes (RFC 4291 2.6.1; /127 and /128 have none); *@relay when it is the relay
 * interface's first address. */
static bool own_address6(const struct edge_cfg *cfg, const uint8_t ip[16], bool *relay)
{
	int rif = cfg_turn_relay_if(&cfg->turn);

	*relay = rif >= 0 && rif < cfg->n_ifs && cfg->ifs[rif].n_addrs6 &&
		!memcmp(cfg->ifs[rif].addrs6[0].addr, ip, 16);
	if (*relay)
		return true;
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int k = 0; k < cfg->ifs[i].n_addrs6; k++) {
			const struct cfg_ipv6 *a = &cfg->ifs[i].addrs6[k];
			uint8_t net[16];

			v6_net(a->addr, a->prefix, net);
			if (!memcmp(a->addr, ip, 16) || (a->prefix <= 126 && !memcmp(net, ip, 16)))
				return true;
		}
	return false;
}

/* internal_net() for IPv6: inside a prefix or a static route of an interface that does not
 * hold the default route. */
static bool internal_net6(const struct edge_cfg *cfg, const uint8_t ip[16])
{
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];

		if (i == cfg->default_if)
			continue;
		for (int k = 0; k < ifc->n_addrs6; k++)
			if (v6_in(ip, ifc->addrs6[k].addr, ifc->addrs6[k].prefix))
				return true;
		for (int k = 0; k < ifc->n_routes6; k++)
			if (v6_in(ip, ifc->routes6[k].net, ifc->routes6[k].prefix))
				return true;
	}
	return false;
}

enum cfg_peer_verdict cfg_turn_peer6_verdict(const struct edge_cfg *cfg, const uint8_t ip[16],
	uint16_t port)
{
	const struct cfg_turn *t = &cfg->turn;
	uint32_t p = ntohs(port), v4;
	bool relay, embeds = embedded_v4(ip, &v4);
	/* no hairpin through a translator: our own IPv4 addresses are never peers there */
	enum cfg_peer_verdict v = embeds ? cfg_turn_peer_verdict(cfg, v4, 0) : CFG_PEER_OK;

	if (never6(ip) || v == CFG_PEER_NEVER)
		return CFG_PEER_NEVER;
	if (own_address6(cfg, ip, &relay) && !(relay && p && p >= t->relay_lo && p <= t->relay_hi))
		return CFG_PEER_NEVER;
	if (in_any6(t->denied6, t->n_denied6, ip))
		return CFG_PEER_DENIED;
	if (in_any6(t->allowed6, t->n_allowed6, ip))
		return CFG_PEER_ALLOWED;
	if (embeds)
		return v;
	if (in_any6(cfg_turn_special6, cfg_turn_n_special6, ip))
		return CFG_PEER_SPECIAL;
	if (internal_net6(cfg, ip))
		return CFG_PEER_INTERNAL;
	return CFG_PEER_OK;
}

int cfg_parse_peer_prefix(const char *s, struct cfg_prefix *p4, struct cfg_prefix6 *p6, char *why,
	size_t whylen)
{
	uint8_t a[16], net[16], len;
	uint32_t a4;
	char buf[INET6_ADDRSTRLEN];
	int rc;

	if (!strchr(s, ':')) {
		if (cfg_parse_prefix(s, &a4, &len) < 0) {
			snprintf(why, whylen,
				"expected a.b.c.d/n or an IPv6 prefix (2001:db8::/32)");
			return -EINVAL;
		}
		p4->addr = a4 & prefix_mask(len); /* not the padding: models are memcmp'd */
		p4->len = len;
		return 4;
	}
	rc = cfg_parse_prefix6(s, a, &len);
	if (rc == -ERANGE) {
		snprintf(why, whylen, "an IPv6 prefix length is 0..128");
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(why, whylen, "expected an IPv6 prefix (2001:db8::/32)");
		return -EINVAL;
	}
	v6_net(a, len, net);
	if (memcmp(a, net, 16)) {
		snprintf(why, whylen, "host bits set (%s/%u?)", cfg_ipv6_str(net, buf), len);
		return -EINVAL;
	}
	memcpy(p6->addr, a, 16);
	p6->len = len;
	return 6;
}

int cfg_parse_ipv4(const char *s, uint32_t *addr)
{
	unsigned int o[4];
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &o[0], &o[1], &o[2], &o[3], &tail) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (o[i] > 255)
			return -EINVAL;
	/* reject leading '+', spaces and the like that sscanf would skip */
	for (const char *p = s; *p; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return -EINVAL;
	*addr = htonl(o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3]);
	return 0;
}

int cfg_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	char *end;
	long n;

	if (!slash || slash - s >= (long)sizeof(ip) || slash[1] == '\0')
		return -EINVAL;
	memcpy(ip, s, slash - s);
	ip[slash - s] = '\0';
	if (cfg_parse_ipv4(ip, addr) < 0)
		return -EINVAL;
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	if (*end || errno || n < 0 || n > 32 || slash[1] == '-' || slash[1] == '+')
		return -ERANGE;
	*prefix = (uint8_t)n;
	return 0;
}

const char *cfg_ipv4_str(uint32_t addr, char buf[16])
{
	return inet_ntop(AF_INET, &addr, buf, 16);
}

int cfg_iface_find(const struct edge_cfg *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_ifs; i++)
		if (strcmp(cfg->ifs[i].name, name) == 0)
			return i;
	return -ENOENT;
}

static uint32_t prefix_mask(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

int cfg_ipv4_add(struct edge_cfg *cfg, int ifi, uint32_t addr, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	uint32_t mask = prefix_mask(prefix);
	char a[16], g[16];

	cfg_ipv4_str(addr, a);
	if (prefix > 32)
		return ERR("ipv4: '%s/%u': prefix must be 0..32", a, prefix);
	if ((ntohl(addr) >> 24) == 0 || (ntohl(addr) >> 24) == 127 || (ntohl(addr) >> 28) >= 14)
		return ERR("ipv4: '%s': not a unicast host address", a);
	if (prefix < 31 && ((addr & ~mask) == 0 || (addr | mask) == 0xffffffffu))
		return ERR("ipv4: '%s/%u': that is the network or broadcast address", a, prefix);
	if (gw) {
		cfg_ipv4_str(gw, g);
		if ((gw & mask) != (addr & mask))
			return ERR("ipv4: gateway '%s' is not inside %s/%u", g, a, prefix);
		if (gw == addr)
			return ERR("ipv4: gateway '%s' is the address itself", g);
	}
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int j = 0; j < cfg->ifs[i].n_addrs; j++)
			if (cfg->ifs[i].addrs[j].addr == addr)
				return ERR("ipv4: '%s' is already configured on interface %s", a,
					cfg->ifs[i].name);
	/* connected subnets and static routes never overlap, and no route goes via us */
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int j = 0; j < cfg->ifs[i].n_routes; j++) {
			const struct cfg_route *r = &cfg->ifs[i].routes[j];
			char n[16];

			cfg_ipv4_str(r->net, n);
			if (r->gateway == addr)
				return ERR("ipv4: '%s' is the gateway of route %s/%u on interface %s "
					   "(ipv4 %s route del %s/%u first)",
					a, n, r->prefix, cfg->ifs[i].name, cfg->ifs[i].name, n,
					r->prefix);
			if (r->prefix >= prefix && (r->net & mask) == (addr & mask))
				return ERR("ipv4: '%s/%u' takes in route %s/%u on interface %s "
					   "(ipv4 %s route del %s/%u first)",
					a, prefix, n, r->prefix, cfg->ifs[i].name, cfg->ifs[i].name,
					n, r->prefix);
		}
	if (ifc->n_addrs >= EDGE_MAX_ADDRS)
		return ERR("ipv4: interface %s already has %d addresses", ifc->name,
			EDGE_MAX_ADDRS);
	ifc->addrs[ifc->n_addrs++] =
		(struct cfg_ipv4){ .addr = addr, .prefix = prefix, .gateway = gw };
	return 0;
}

/* Whether gw lies inside one of ifc's subnets, leaving out address @skip (-1: none), and is
 * not one of its addresses. */
static bool on_link(const struct cfg_iface *ifc, uint32_t gw, int skip)
{
	bool in = false;

	for (int k = 0; k < ifc->n_addrs; k++) {
		uint32_t mask = prefix_mask(ifc->addrs[k].prefix);

		if (k == skip)
			continue;
		if (ifc->addrs[k].addr == gw)
			return false;
		in |= (ifc->addrs[k].addr & mask) == (gw & mask);
	}
	return in;
}

int cfg_ipv4_del(struct edge_cfg *cfg, int ifi, uint32_t addr, char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char a[16];

	for (int j = 0; j < ifc->n_addrs; j++) {
		if (ifc->addrs[j].addr != addr)
			continue;
		for (int r = 0; r < ifc->n_routes; r++)
			if (!on_link(ifc, ifc->routes[r].gateway, j)) {
				char n[16], g[16];

				return ERR("ipv4: '%s' is the way to the gateway of route %s/%u via %s "
					   "(ipv4 %s route del %s/%u first)",
					cfg_ipv4_str(addr, a), cfg_ipv4_str(ifc->routes[r].net, n),
					ifc->routes[r].prefix,
					cfg_ipv4_str(ifc->routes[r].gateway, g), ifc->name, n,
					ifc->routes[r].prefix);
			}
		memmove(&ifc->addrs[j], &ifc->addrs[j + 1],
			(size_t)(ifc->n_addrs - j - 1) * sizeof(ifc->addrs[0]));
		ifc->n_addrs--;
		return 0;
	}
	return ERR("ipv4: '%s' is not configured on interface %s", cfg_ipv4_str(addr, a),
		ifc->name);
}

int cfg_route_add(struct edge_cfg *cfg, int ifi, uint32_t net, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char n[16], g[16];

	cfg_ipv4_str(net, n);
	cfg_ipv4_str(gw, g);
	if (prefix > 32)
		return ERR("ipv4 route: '%s/%u': prefix must be 0..32", n, prefix);
	if (prefix == 0)
		return ERR("ipv4 route: '%s/0' is the default route: 'ipv4 %s default' makes the "
			   "interface's gateway the default",
			n, ifc->name);
	if (net & ~prefix_mask(prefix)) {
		char c[16];

		return ERR("ipv4 route: '%s/%u' has host bits set: the network is %s/%u", n, prefix,
			cfg_ipv4_str(net & prefix_mask(prefix), c), prefix);
	}
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *o = &cfg->ifs[i];

		for (int k = 0; k < o->n_addrs; k++) {
			uint32_t m = prefix_mask(o->addrs[k].prefix);

			if (o->addrs[k].addr == gw)
				return ERR("ipv4 route: gateway '%s' is an address of this appliance "
					   "(interface %s)",
					g, o->name);
			/* inside a connected subnet, the kernel and TURN would disagree */
			if (prefix >= o->addrs[k].prefix && (net & m) == (o->addrs[k].addr & m)) {
				char c[16];

				return ERR("ipv4 route: %s/%u is inside %s/%u, connected on interface "
					   "%s",
					n, prefix, cfg_ipv4_str(o->addrs[k].addr & m, c),
					o->addrs[k].prefix, o->name);
			}
		}
		for (int k = 0; k < o->n_routes; k++)
			if (o->routes[k].net == net && o->routes[k].prefix == prefix)
				return ERR("ipv4 route: %s/%u is already routed on interface %s (via "
					   "%s)",
					n, prefix, o->name, cfg_ipv4_str(o->routes[k].gateway, g));
	}
	if (!gw || !on_link(ifc, gw, -1))
		return ERR("ipv4 route: gateway '%s' is not on a subnet of interface %s", g,
			ifc->name);
	if (ifc->n_routes >= EDGE_MAX_ROUTES)
		return ERR("ipv4 route: interface %s already has %d routes", ifc->name,
			EDGE_MAX_ROUTES);
	ifc->routes[ifc->n_routes++] = (struct cfg_route){ net, prefix, gw };
	return 0;
}

int cfg_route_del(struct edge_cfg *cfg, int ifi, uint32_t net, uint8_t prefix, char *err,
	size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char n[16];

	for (int i = 0; i < ifc->n_routes; i++) {
		if (ifc->routes[i].net != net || ifc->routes[i].prefix != prefix)
			continue;
		memmove(&ifc->routes[i], &ifc->routes[i + 1],
			(size_t)(ifc->n_routes - i - 1) * sizeof(ifc->routes[0]));
		ifc->n_routes--;
		return 0;
	}
	return ERR("ipv4 route: no route to %s/%u on interface %s", cfg_ipv4_str(net, n), prefix,
		ifc->name);
}

uint32_t cfg_next_hop(const struct cfg_iface *ifc, uint32_t ip)
{
	const struct cfg_route *best = NULL;
	uint32_t gw = 0;

	for (int k = 0; k < ifc->n_addrs; k++) {
		uint32_t mask = prefix_mask(ifc->addrs[k].prefix);

		if ((ifc->addrs[k].addr & mask) == (ip & mask))
			return ip;
		if (!gw)
			gw = ifc->addrs[k].gateway;
	}
	for (int i = 0; i < ifc->n_routes; i++)
		if ((ip & prefix_mask(ifc->routes[i].prefix)) == ifc->routes[i].net &&
			(!best || ifc->routes[i].prefix > best->prefix))
			best = &ifc->routes[i];
	return best ? best->gateway : gw;
}

/* --- IPv6 (issue 18): configured addresses and static routes, no SLAAC --- */

int cfg_parse_ipv6(const char *s, uint8_t out[16])
{
	uint8_t a[16];

	if (!s || inet_pton(AF_INET6, s, a) != 1)
		return -1;
	memcpy(out, a, 16);
	return 0;
}

int cfg_parse_prefix6(const char *s, uint8_t addr[16], uint8_t *prefix)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	long n;

	if (!slash || slash - s >= (long)sizeof(ip) || slash[1] == '\0')
		return -EINVAL;
	memcpy(ip, s, slash - s);
	ip[slash - s] = '\0';
	if (cfg_parse_ipv6(ip, addr) < 0)
		return -EINVAL;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || n < 0 || n > 128)
		return -ERANGE;
	*prefix = (uint8_t)n;
	return 0;
}

const char *cfg_ipv6_str(const uint8_t a[16], char buf[46])
{
	return inet_ntop(AF_INET6, a, buf, 46);
}

void cfg_ipv6_link_local(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	/* modified EUI-64 (RFC 4291 appendix A): the U/L bit flipped, ff:fe in the middle */
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

static bool v6_zero(const uint8_t a[16])
{
	static const uint8_t none[16];

	return !memcmp(a, none, 16);
}

/* Whether @a lies inside @net/@prefix. */
static bool v6_in(const uint8_t a[16], const uint8_t net[16], unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, whole))
		return false;
	return !rest || ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* @a with the bits after @prefix cleared. */
static void v6_net(const uint8_t a[16], unsigned prefix, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > 8 * i ? prefix - 8 * i : 0;

		out[i] = bits >= 8 ? a[i] : (uint8_t)(a[i] & (uint8_t)(0xff << (8 - bits)));
	}
}

static bool v6_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Why @a cannot be an address of this appliance or a gateway, or NULL: the special
 * addresses. Link-local is the caller's to judge. */
static const char *v6_special(const uint8_t a[16])
{
	static const uint8_t loopback[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (v6_zero(a))
		return "the unspecified address";
	if (!memcmp(a, loopback, 16))
		return "the loopback address";
	if (a[0] == 0xff)
		return "a multicast address (ff00::/8)";
	if (!memcmp(a, mapped, 12))
		return "an IPv4-mapped address (::ffff:0:0/96)";
	return NULL;
}

/* Whether gw lies inside one of ifc's prefixes, leaving out address @skip (-1: none), and is
 * not one of its addresses. */
static bool on_link6(const struct cfg_iface *ifc, const uint8_t gw[16], int skip)
{
	bool in = false;

	for (int k = 0; k < ifc->n_addrs6; k++) {
		if (k == skip)
			continue;
		if (!memcmp(ifc->addrs6[k].addr, gw, 16))
			return false;
		in |= v6_in(gw, ifc->addrs6[k].addr, ifc->addrs6[k].prefix);
	}
	return in;
}

int cfg_ipv6_add(struct edge_cfg *cfg, int ifi, const uint8_t addr[16], uint8_t prefix,
	const uint8_t *gw, char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	const char *why;

	cfg_ipv6_str(addr, a);
	if (prefix < 1 || prefix > 128)
		return ERR("ipv6: '%s/%u': prefix must be 1..128", a, prefix);
	if ((why = v6_special(addr)))
		return ERR("ipv6: '%s' is %s, not an address to configure", a, why);
	if (v6_link_local(addr))
		return ERR("ipv6: '%s' is link-local (fe80::/10): the interface's link-local "
			   "address is derived from its MAC, not configured",
			a);
	if (gw && !v6_zero(gw)) {
		cfg_ipv6_str(gw, g);
		if ((why = v6_special(gw)))
			return ERR("ipv6: gateway '%s' is %s", g, why);
		if (!memcmp(gw, addr, 16))
			return ERR("ipv6: gateway '%s' is the address itself", g);
		if (!v6_link_local(gw) && !v6_in(gw, addr, prefix))
			return ERR("ipv6: gateway '%s' is neither inside %s/%u nor link-local "
				   "(fe80::/10)",
				g, a, prefix);
	}
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int j = 0; j < cfg->ifs[i].n_addrs6; j++)
			if (!memcmp(cfg->ifs[i].addrs6[j].addr, addr, 16))
				return ERR("ipv6: '%s' is already configured on interface %s", a,
					cfg->ifs[i].name);
	/* connected prefixes and static routes never overlap, and no route goes via us */
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int j = 0; j < cfg->ifs[i].n_routes6; j++) {
			const struct cfg_route6 *r = &cfg->ifs[i].routes6[j];
			char n[INET6_ADDRSTRLEN];

			cfg_ipv6_str(r->net, n);
			if (!memcmp(r->gateway, addr, 16))
				return ERR("ipv6: '%s' is the gateway of route %s/%u on interface %s "
					   "(ipv6 %s route del %s/%u first)",
					a, n, r->prefix, cfg->ifs[i].name, cfg->ifs[i].name, n,
					r->prefix);
			if (r->prefix >= prefix && v6_in(r->net, addr, prefix))
				return ERR("ipv6: '%s/%u' takes in route %s/%u on interface %s "
					   "(ipv6 %s route del %s/%u first)",
					a, prefix, n, r->prefix, cfg->ifs[i].name, cfg->ifs[i].name,
					n, r->prefix);
		}
	if (ifc->n_addrs6 >= EDGE_MAX_ADDRS)
		return ERR("ipv6: interface %s already has %d addresses", ifc->name,
			EDGE_MAX_ADDRS);
	memset(&ifc->addrs6[ifc->n_addrs6], 0, sizeof(ifc->addrs6[0]));
	memcpy(ifc->addrs6[ifc->n_addrs6].addr, addr, 16);
	ifc->addrs6[ifc->n_addrs6].prefix = prefix;
	if (gw)
		memcpy(ifc->addrs6[ifc->n_addrs6].gateway, gw, 16);
	ifc->n_addrs6++;
	return 0;
}

int cfg_ipv6_del(struct edge_cfg *cfg, int ifi, const uint8_t addr[16], char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char a[INET6_ADDRSTRLEN];

	cfg_ipv6_str(addr, a);
	for (int j = 0; j < ifc->n_addrs6; j++) {
		if (memcmp(ifc->addrs6[j].addr, addr, 16))
			continue;
		/* a link-local gateway is reachable while the interface keeps an address (the
		 * data plane speaks IPv6, link-local among it, only then) */
		for (int r = 0; r < ifc->n_routes6; r++) {
			const struct cfg_route6 *rt = &ifc->routes6[r];

			if (v6_link_local(rt->gateway) ? ifc->n_addrs6 > 1 :
							 on_link6(ifc, rt->gateway, j))
				continue;
			char n[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];

			return ERR("ipv6: '%s' is the way to the gateway of route %s/%u via %s "
				   "(ipv6 %s route del %s/%u first)",
				a, cfg_ipv6_str(rt->net, n), rt->prefix,
				cfg_ipv6_str(rt->gateway, g), ifc->name, n, rt->prefix);
		}
		memmove(&ifc->addrs6[j], &ifc->addrs6[j + 1],
			(size_t)(ifc->n_addrs6 - j - 1) * sizeof(ifc->addrs6[0]));
		ifc->n_addrs6--;
		memset(&ifc->addrs6[ifc->n_addrs6], 0, sizeof(ifc->addrs6[0]));
		return 0;
	}
	return ERR("ipv6: '%s' is not configured on interface %s", a, ifc->name);
}

int cfg_route6_add(struct edge_cfg *cfg, int ifi, const uint8_t net[16], uint8_t prefix,
	const uint8_t gw[16], char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char n[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];
	uint8_t clean[16];
	const char *why;

	cfg_ipv6_str(net, n);
	cfg_ipv6_str(gw, g);
	if (prefix > 128)
		return ERR("ipv6 route: '%s/%u': prefix must be 0..128", n, prefix);
	v6_net(net, prefix, clean);
	if (memcmp(clean, net, 16))
		return ERR("ipv6 route: '%s/%u' has host bits set: the network is %s/%u", n, prefix,
			cfg_ipv6_str(clean, c), prefix);
	if ((why = v6_special(gw)))
		return ERR("ipv6 route: gateway '%s' is %s", g, why);
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *o = &cfg->ifs[i];

		for (int k = 0; k < o->n_addrs6; k++) {
			const struct cfg_ipv6 *x = &o->addrs6[k];

			if (!memcmp(x->addr, gw, 16))
				return ERR("ipv6 route: gateway '%s' is an address of this appliance "
					   "(interface %s)",
					g, o->name);
			/* inside a connected prefix, the kernel and the data plane would disagree */
			if (prefix >= x->prefix && v6_in(net, x->addr, x->prefix)) {
				v6_net(x->addr, x->prefix, clean);
				return ERR("ipv6 route: %s/%u is inside %s/%u, connected on interface "
					   "%s",
					n, prefix, cfg_ipv6_str(clean, c), x->prefix, o->name);
			}
		}
		for (int k = 0; k < o->n_routes6; k++)
			if (!memcmp(o->routes6[k].net, net, 16) && o->routes6[k].prefix == prefix)
				return ERR("ipv6 route: %s/%u is already routed on interface %s (via "
					   "%s)",
					n, prefix, o->name, cfg_ipv6_str(o->routes6[k].gateway, c));
	}
	if (!ifc->n_addrs6)
		return ERR("ipv6 route: interface %s has no IPv6 address (ipv6 %s add "
			   "<address>/<prefix> first)",
			ifc->name, ifc->name);
	if (!v6_link_local(gw) && !on_link6(ifc, gw, -1))
		return ERR("ipv6 route: gateway '%s' is neither on a prefix of interface %s nor "
			   "link-local (fe80::/10)",
			g, ifc->name);
	if (ifc->n_routes6 >= EDGE_MAX_ROUTES)
		return ERR("ipv6 route: interface %s already has %d routes", ifc->name,
			EDGE_MAX_ROUTES);
	memset(&ifc->routes6[ifc->n_routes6], 0, sizeof(ifc->routes6[0]));
	memcpy(ifc->routes6[ifc->n_routes6].net, net, 16);
	ifc->routes6[ifc->n_routes6].prefix = prefix;
	memcpy(ifc->routes6[ifc->n_routes6].gateway, gw, 16);
	ifc->n_routes6++;
	return 0;
}

int cfg_route6_del(struct edge_cfg *cfg, int ifi, const uint8_t net[16], uint8_t prefix, char *err,
	size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char n[INET6_ADDRSTRLEN];

	for (int i = 0; i < ifc->n_routes6; i++) {
		if (memcmp(ifc->routes6[i].net, net, 16) || ifc->routes6[i].prefix != prefix)
			continue;
		memmove(&ifc->routes6[i], &ifc->routes6[i + 1],
			(size_t)(ifc->n_routes6 - i - 1) * sizeof(ifc->routes6[0]));
		ifc->n_routes6--;
		memset(&ifc->routes6[ifc->n_routes6], 0, sizeof(ifc->routes6[0]));
		return 0;
	}
	return ERR("ipv6 route: no route to %s/%u on interface %s", cfg_ipv6_str(net, n), prefix,
		ifc->name);
}

static const char *level_names[] = { [LOG_ERR] = "err",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug" };

static int level_parse(const char *s)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return i;
	return -EINVAL;
}

/* An integer member in [lo, hi]; untouched when absent. */
static int load_range(const config_setting_t *g, const char *grp, const char *key, int lo, int hi,
	int *v, char *err, size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	int x;

	if (!m)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_INT)
		return ERR("line %d: %s.%s: expected a number", config_setting_source_line(m), grp,
			key);
	x = config_setting_get_int(m);
	if (x < lo || x > hi)
		return ERR("line %d: %s.%s %d: must be %d..%d", config_setting_source_line(m), grp,
			key, x, lo, hi);
	*v = x;
	return 0;
}

/* An interface named by a string member; "" leaves -1. */
static int load_ifname(const config_setting_t *g, const char *grp, const char *key,
	const struct edge_cfg *cfg, int *ifi, char *err, size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	const char *v;

	if (!m)
		return 0;
	if (!(v = config_setting_get_string(m)))
		return ERR("line %d: %s.%s: expected an interface name",
			config_setting_source_line(m), grp, key);
	if (!v[0]) {
		*ifi = -1;
		return 0;
	}
	if ((*ifi = cfg_iface_find(cfg, v)) < 0)
		return ERR("line %d: %s.%s: '%s': no such interface", config_setting_source_line(m),
			grp, key, v);
	return 0;
}

/* A boolean member; untouched when absent, refused when of another type (enabled = 1;). */
static int load_bool(const config_setting_t *g, const char *grp, const char *key, bool *dst,
	char *err, size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(g, key);

	if (!m)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL)
		return ERR("line %d: %s.%s: expected true or false", config_setting_source_line(m),
			grp, key);
	*dst = config_setting_get_bool(m);
	return 0;
}

#define BOOL(g, grp, key, dst) load_bool(g, grp, key, dst, err, errlen)

/* A string member copied into @dst, whose rest is zeroed: a configuration saved and loaded
 * back is the same bytes (cfg_defaults' longer strings leave no tail). Untouched when absent. */
static int load_str(const config_setting_t *grp, const char *key, char *dst, size_t len, char *err,
	size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(grp, key);
	const char *v;

	if (!m)
		return 0;
	if (!(v = config_setting_get_string(m)))
		return ERR("line %d: '%s': expected a string", config_setting_source_line(m), key);
	if (strlen(v) >= len)
		return ERR("line %d: '%s' is longer than %zu characters",
			config_setting_source_line(m), key, len - 1);
	memset(dst, 0, len);
	memcpy(dst, v, strlen(v));
	return 0;
}

#define STR(g, key, dst) load_str(g, key, dst, sizeof(dst), err, errlen)

/* A string member: 1 and @v when present, 0 when absent, an error when of another type. */
static int load_cstr(const config_setting_t *g, const char *grp, const char *key, const char **v,
	char *err, size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(g, key);

	if (!m)
		return 0;
	if (!(*v = config_setting_get_string(m)))
		return ERR("line %d: %s.%s: expected a string", config_setting_source_line(m), grp,
			key);
	return 1;
}

/* A list (or array) member into @l: NULL when absent, an error when of another type; @shape
 * shows what was expected. */
static int load_list(const config_setting_t *g, const char *grp, const char *key, const char *shape,
	const config_setting_t **l, char *err, size_t errlen)
{
	*l = config_setting_get_member(g, key);
	if (*l && !config_setting_is_list(*l) && !config_setting_is_array(*l))
		return ERR("line %d: %s.%s: expected a list %s", config_setting_source_line(*l),
			grp, key, shape);
	return 0;
}

/* Runs one firewall command (space-separated words) on @fw, as the CLI would. */
static int fw_words(struct fw_if_config *fw, const char *text, int line, char *err, size_t errlen)
{
	char buf[256], *argv[16], e[200];
	int argc = 0;

	if (strlen(text) >= sizeof(buf))
		return ERR("line %d: firewall rule too long", line);
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save, *w = strtok_r(buf, " ", &save); w && argc < 16;
		w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (fw_cmd_apply(fw, argc, argv, e, sizeof(e)) < 0)
		return ERR("line %d: %s", line, e);
	return 0;
}

/* firewall: { enabled = true; default = "allow"; rules = [ "deny 22", ... ]; } */
static int load_firewall(const config_setting_t *g, struct fw_if_config *fw, char *err,
	size_t errlen)
{
	const config_setting_t *rules;
	const char *def;
	int found, line;

	memset(fw, 0, sizeof(*fw));
	if (!g)
		return 0;
	line = config_setting_source_line(g);
	if ((found = load_cstr(g, "firewall", "default", &def, err, errlen)) < 0)
		return found;
	if (found) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "default %.16s", def);
		if (fw_words(fw, cmd, line, err, errlen) < 0)
			return -EINVAL;
	}
	if (load_list(g, "firewall", "rules", "[ \"<rule>\", ... ]", &rules, err, errlen) < 0)
		return -EINVAL;
	for (int i = 0; rules && i < config_setting_length(rules); i++) {
		const char *r = config_setting_get_string_elem(rules, i);

		if (!r || fw_words(fw, r, config_setting_source_line(rules), err, errlen) < 0)
			return r ? -EINVAL : ERR("line %d: firewall rules must be strings", line);
	}
	return load_bool(g, "firewall", "enabled", &fw->enabled, err, errlen);
}

/* listen = [ "<if>", ... ] of group grp, as a bit per interface in *mask */
static int load_ifmask(const config_setting_t *g, const char *grp, const struct edge_cfg *cfg,
	uint8_t *mask, char *err, size_t errlen)
{
	const config_setting_t *l;

	if (load_list(g, grp, "listen", "[ \"<if>\", ... ]", &l, err, errlen) < 0)
		return -EINVAL;
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const char *name = config_setting_get_string_elem(l, i);
		int ifi = name ? cfg_iface_find(cfg, name) : -1;

		if (ifi < 0)
			return ERR("line %d: %s.listen: '%s': no such interface",
				config_setting_source_line(l), grp, name ? name : "?");
		*mask |= (uint8_t)(1u << ifi);
	}
	return 0;
}

/* routes = [ "<net>/<prefix> <gateway>", ... ], after the interface's addresses */
static int load_routes(const config_setting_t *s, struct edge_cfg *cfg, int ifi, char *err,
	size_t errlen)
{
	const config_setting_t *l;

	if (load_list(s, "interface", "routes", "[ \"<net>/<prefix> <gateway>\", ... ]", &l, err,
		    errlen) < 0)
		return -EINVAL;
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const char *v = config_setting_get_string_elem(l, i);
		char net[24], gw[24], tail, e2[200];
		uint32_t n, g;
		uint8_t prefix;

		if (!v || sscanf(v, "%23s %23s %c", net, gw, &tail) != 2 ||
			cfg_parse_prefix(net, &n, &prefix) < 0 || cfg_parse_ipv4(gw, &g) < 0)
			return ERR("line %d: routes: '%s': expected \"<net>/<prefix> <gateway>\"",
				config_setting_source_line(l), v ? v : "?");
		if (cfg_route_add(cfg, ifi, n, prefix, g, e2, sizeof(e2)) < 0)
			return ERR("line %d: %s", config_setting_source_line(l), e2);
	}
	return 0;
}

/* ipv6 = ( { address = "<addr>/<prefix>"; gateway = "<addr>"; }, ... ) and
 * routes6 = ( { net = "<net>/<prefix>"; gateway = "<addr>"; }, ... ), after the IPv4 ones */
static int load_ipv6(const config_setting_t *s, struct edge_cfg *cfg, int ifi, char *err,
	size_t errlen)
{
	const config_setting_t *l;
	char e2[256];
	int r;

	if (load_list(s, "interface", "ipv6",
		    "( { address = \"<address>/<prefix>\"; gateway = \"<address>\"; }, ... )", &l,
		    err, errlen) < 0)
		return -EINVAL;
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const config_setting_t *a = config_setting_get_elem(l, i);
		int line = config_setting_source_line(a);
		const char *addr, *gw = NULL;
		uint8_t ip[16], gwip[16] = { 0 }, prefix;

		if (!config_setting_is_group(a))
			return ERR("line %d: ipv6: expected { address = \"<address>/<prefix>\"; }",
				line);
		if ((r = load_cstr(a, "ipv6", "address", &addr, err, errlen)) <= 0)
			return r < 0 ? r : ERR("line %d: ipv6 entry without 'address'", line);
		if (cfg_parse_prefix6(addr, ip, &prefix) < 0)
			return ERR("line %d: ipv6: '%s': expected <address>/<prefix> with prefix "
				   "1..128",
				line, addr);
		if ((r = load_cstr(a, "ipv6", "gateway", &gw, err, errlen)) < 0)
			return r;
		if (r && gw[0] && cfg_parse_ipv6(gw, gwip) < 0)
			return ERR("line %d: ipv6: gateway '%s' is not an IPv6 address", line, gw);
		if (cfg_ipv6_add(cfg, ifi, ip, prefix, gwip, e2, sizeof(e2)) < 0)
			return ERR("line %d: %s", line, e2);
	}
	if (load_list(s, "interface", "routes6",
		    "( { net = \"<net>/<prefix>\"; gateway = \"<address>\"; }, ... )", &l, err,
		    errlen) < 0)
		return -EINVAL;
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const config_setting_t *rt = config_setting_get_elem(l, i);
		int line = config_setting_source_line(rt);
		const char *net, *gw;
		uint8_t n[16], g[16], prefix;

		if (!config_setting_is_group(rt))
			return ERR("line %d: routes6: expected { net = \"<net>/<prefix>\"; gateway = "
				   "\"<address>\"; }",
				line);
		if ((r = load_cstr(rt, "routes6", "net", &net, err, errlen)) <= 0)
			return r < 0 ? r : ERR("line %d: routes6 entry without 'net'", line);
		if (cfg_parse_prefix6(net, n, &prefix) < 0)
			return ERR("line %d: routes6: '%s': expected <net>/<prefix> with prefix "
				   "0..128",
				line, net);
		if ((r = load_cstr(rt, "routes6", "gateway", &gw, err, errlen)) <= 0)
			return r < 0 ? r : ERR("line %d: routes6 entry without 'gateway'", line);
		if (cfg_parse_ipv6(gw, g) < 0)
			return ERR("line %d: routes6: gateway '%s' is not an IPv6 address", line,
				gw);
		if (cfg_route6_add(cfg, ifi, n, prefix, g, e2, sizeof(e2)) < 0)
			return ERR("line %d: %s", line, e2);
	}
	return 0;
}

static int load_iface(const config_setting_t *s, struct cfg_iface *ifc, struct edge_cfg *cfg,
	int ifi, char *err, size_t errlen)
{
	const config_setting_t *v4;
	const char *name;
	int r, line = config_setting_source_line(s);

	if ((r = load_cstr(s, "interface", "name", &name, err, errlen)) <= 0)
		return r < 0 ? r : ERR("line %d: interface without a name", line);
	if (strlen(name) != 1 || name[0] < 'a' || name[0] >= 'a' + EDGE_MAX_IFACES)
		return ERR("line %d: interface '%s': names are a..%c", line, name,
			'a' + EDGE_MAX_IFACES - 1);
	if (cfg_iface_find(cfg, name) >= 0)
		return ERR("line %d: interface '%s' is defined twice", line, name);
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	if (STR(s, "port", ifc->port) < 0 || STR(s, "tap", ifc->tap) < 0)
		return -EINVAL;
	if (!ifc->port[0])
		return ERR("line %d: interface '%s' has no port (PCI address or vdev)", line, name);
	if (!ifc->tap[0])
		snprintf(ifc->tap, sizeof(ifc->tap), "edge-%s", name);
	if (load_range(s, "interface", "rx_queues", 0, 64, &ifc->rx_queues, err, errlen) < 0)
		return -EINVAL;
	cfg->n_ifs = ifi + 1; /* so cfg_ipv4_add sees this interface */
	if (load_firewall(config_setting_get_member(s, "firewall"), &ifc->fw, err, errlen) < 0)
		return -EINVAL;

	if (load_list(s, "interface", "ipv4", "( { address = \"a.b.c.d/n\"; }, ... )", &v4, err,
		    errlen) < 0)
		return -EINVAL;
	for (int i = 0; v4 && i < config_setting_length(v4); i++) {
		const config_setting_t *a = config_setting_get_elem(v4, i);
		const char *addr, *gw = NULL;
		uint32_t ip, gwip = 0;
		uint8_t prefix;

		if ((r = load_cstr(a, "ipv4", "address", &addr, err, errlen)) <= 0)
			return r < 0 ? r :
				       ERR("line %d: ipv4 entry without 'address'",
					       config_setting_source_line(a));
		if (cfg_parse_prefix(addr, &ip, &prefix) < 0)
			return ERR("line %d: ipv4: '%s': expected a.b.c.d/prefix with prefix 0..32",
				config_setting_source_line(a), addr);
		if ((r = load_cstr(a, "ipv4", "gateway", &gw, err, errlen)) < 0)
			return r;
		if (r && gw[0] && cfg_parse_ipv4(gw, &gwip) < 0)
			return ERR("line %d: ipv4: gateway '%s' is not an IPv4 address",
				config_setting_source_line(a), gw);
		char e2[200];
		if (cfg_ipv4_add(cfg, ifi, ip, prefix, gwip, e2, sizeof(e2)) < 0)
			return ERR("line %d: %s", config_setting_source_line(a), e2);
	}
	if (load_routes(s, cfg, ifi, err, errlen) < 0)
		return -EINVAL;
	return load_ipv6(s, cfg, ifi, err, errlen);
}

/* denied_peers, allowed_peers: IPv4 and IPv6 prefixes mixed, into @out and @out6. */
static int load_prefixes(const config_setting_t *grp, const char *key, struct cfg_prefix *out,
	int *n, struct cfg_prefix6 *out6, int *n6, char *err, size_t errlen)
{
	const config_setting_t *list;

	if (load_list(grp, "turn", key, "[ \"a.b.c.d/n\", \"2001:db8::/32\", ... ]", &list, err,
		    errlen) < 0)
		return -EINVAL;
	for (int i = 0; list && i < config_setting_length(list); i++) {
		const char *v = config_setting_get_string_elem(list, i);
		struct cfg_prefix p = { 0 };
		struct cfg_prefix6 p6;
		char why[96];
		int fam = v ? cfg_parse_peer_prefix(v, &p, &p6, why, sizeof(why)) : -EINVAL;

		if (fam < 0)
			return ERR("line %d: turn.%s: '%s': %s", config_setting_source_line(list),
				key, v ? v : "?", v ? why : "expected a string");
		if ((fam == 4 ? *n : *n6) >= TURN_MAX_PEER_RULES)
			return ERR("turn.%s: more than %d IPv%d entries", key, TURN_MAX_PEER_RULES,
				fam);
		if (fam == 4)
			out[(*n)++] = p;
		else
			out6[(*n6)++] = p6;
	}
	return 0;
}

static int load_turn(const config_setting_t *s, struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_turn *t = &cfg->turn;
	/* the numbers, each with the range the CLI takes (0: none) */
	static const struct {
		const char *name;
		size_t off, size;
		int lo, hi;
	} nums[] = {
#define NUM(key, field, lo, hi)                                                                    \
	{ key, offsetof(struct cfg_turn, field), sizeof(((struct cfg_turn *)0)->field), lo, hi }
		NUM("port", port, 1, 65535),
		NUM("tls_port", tls_port, 0, 65535),
		NUM("browser_port", browser_port, 0, 65535),
		NUM("max_allocations", max_allocs, 0, 100000000),
		NUM("max_allocations_per_user", max_allocs_per_user, 0, 1000000),
		NUM("bandwidth_kbps", bandwidth_kbps, 0, 10000000),
		NUM("lifetime_max", lifetime_max, 600, 86400),
		NUM("max_connections", max_conns, 0, 65534),
		NUM("max_connections_per_address", max_conns_per_addr, 0, 65534),
		NUM("handshake_timeout", handshake_timeout, 0, 3600),
		NUM("idle_timeout", idle_timeout, 0, 86400),
#undef NUM
	};
	const config_setting_t *l;
	const char *str;
	int r, line = config_setting_source_line(s);

	if (BOOL(s, "turn", "enabled", &t->enabled) < 0 ||
		BOOL(s, "turn", "short_term", &t->short_term) < 0 ||
		BOOL(s, "turn", "high_capacity", &t->high_capacity) < 0 ||
		STR(s, "realm", t->realm) < 0 || STR(s, "shared_secret", t->shared_secret) < 0 ||
		STR(s, "tls_key", t->tls_key) < 0 || STR(s, "tls_cert", t->tls_cert) < 0 ||
		STR(s, "tls_bundle", t->tls_bundle) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char *f = (char *)t + nums[i].off;
		int v = nums[i].size == 2 ? *(uint16_t *)f : (int)*(uint32_t *)f;

		if (load_range(s, "turn", nums[i].name, nums[i].lo, nums[i].hi, &v, err, errlen) <
			0)
			return -EINVAL;
		if (nums[i].size == 2)
			*(uint16_t *)f = (uint16_t)v;
		else
			*(uint32_t *)f = (uint32_t)v;
	}
	if (t->browser_port && !cfg_turn_browser_ok(t->browser_port))
		return ERR("line %d: turn.browser_port %u: must be 0 (none), 53, 80 or 443 (the "
			   "ports below 1024 browsers use for TURN)",
			line, t->browser_port);
	if (t->bandwidth_kbps && t->bandwidth_kbps < 8)
		return ERR("line %d: turn.bandwidth_kbps %u: must be 0 (none) or 8..10000000", line,
			t->bandwidth_kbps);
	if ((r = load_cstr(s, "turn", "public_ip", &str, err, errlen)) < 0)
		return r;
	if (r && str[0] && cfg_parse_ipv4(str, &t->public_ip) < 0)
		return ERR("line %d: turn.public_ip '%s' is not an IPv4 address", line, str);
	if ((r = load_cstr(s, "turn", "relay_ports", &str, err, errlen)) < 0)
		return r;
	if (r) {
		unsigned int lo, hi;
		char tail;

		if (sscanf(str, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 ||
			lo > hi)
			return ERR("line %d: turn.relay_ports '%s': expected lo-hi within 1024-65535",
				line, str);
		t->relay_lo = (uint16_t)lo;
		t->relay_hi = (uint16_t)hi;
	}
	if (load_ifmask(s, "turn", cfg, &t->listen_mask, err, errlen) < 0)
		return -EINVAL;
	if (load_list(s, "turn", "users", "( { name = \"...\"; password = \"...\"; }, ... )", &l,
		    err, errlen) < 0)
		return -EINVAL;
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const config_setting_t *u = config_setting_get_elem(l, i);
		struct cfg_turn_user *cu = &t->users[i];

		if (i >= TURN_MAX_USERS)
			return ERR("turn.users: more than %d", TURN_MAX_USERS);
		if (STR(u, "name", cu->name) < 0 || STR(u, "password", cu->password) < 0)
			return -EINVAL;
		if (!cu->name[0] || !cu->password[0])
			return ERR("line %d: turn.users: an entry needs a name and a password",
				config_setting_source_line(u));
		t->n_users = i + 1;
	}
	if (load_prefixes(s, "denied_peers", t->denied, &t->n_denied, t->denied6, &t->n_denied6,
		    err, errlen) < 0 ||
		load_prefixes(s, "allowed_peers", t->allowed, &t->n_allowed, t->allowed6,
			&t->n_allowed6, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

/* --- webbridge3, callbridge, webadmin, the role and the administrators --- */

static const char *const role_names
	[] = { [EDGE_ROLE_BOTH] = "both", [EDGE_ROLE_EDGE] = "edge", [EDGE_ROLE_CORE] = "core" };

const char *cfg_role_name(enum edge_role role)
{
	return role_names[role];
}

int cfg_parse_listen(const struct edge_cfg *cfg, const char *s, struct cfg_listen *l)
{
	const char *colon = strchr(s, ':');
	char name[EDGE_IFNAME_LEN], *end;
	long port;
	int ifi;

	if (!colon || colon == s || colon - s >= (long)sizeof(name) || !colon[1])
		return -EINVAL;
	memcpy(name, s, colon - s);
	name[colon - s] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || errno || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	if ((ifi = cfg_iface_find(cfg, name)) < 0)
		return -ENOENT;
	if (port < 1 || port > 65535)
		return -ERANGE;
	/* field by field: a struct copy could leave stack bytes in the padding, and a saved
	 * configuration is compared byte for byte with the one loaded back */
	l->ifi = (uint8_t)ifi;
	l->port = (uint16_t)port;
	return 0;
}

const char *cfg_listen_str(const struct edge_cfg *cfg, const struct cfg_listen *l, char *buf,
	size_t len)
{
	snprintf(buf, len, "%s:%u", l->ifi < cfg->n_ifs ? cfg->ifs[l->ifi].name : "?", l->port);
	return buf;
}

bool cfg_admin_role_ok(const char *role)
{
	static const char *const roles[] = { "admin", "api", "audit", "appadmin" };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(role, roles[i]))
			return true;
	return false;
}

bool cfg_admin_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 31 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
			    name[i] == '_' || name[i] == '.' || name[i] == '-'))
			return false;
	return true;
}

int cfg_admin_find(const struct edge_cfg *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_admins; i++)
		if (!strcmp(cfg->admins[i].name, name))
			return i;
	return -ENOENT;
}

int cfg_admin_hash(const char *password, char *hash, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	int rc = 0;

	/* yescrypt, libxcrypt's default cost; the salt comes from the kernel's random */
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		return errno ? -errno : -EINVAL;
	if (!(cd = calloc(1, sizeof(*cd)))) /* 32 KB: not on the stack */
		return -ENOMEM;
	if (!crypt_rn(password, salt, cd, sizeof(*cd)) || cd->output[0] == '*')
		rc = errno ? -errno : -EINVAL;
	else if (strlen(cd->output) >= len)
		rc = -ENAMETOOLONG;
	else
		snprintf(hash, len, "%s", cd->output);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* Equal strings, in a time that depends on @b's length only (the stored hash). */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	volatile unsigned char d = la != lb;

	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)(i < la ? a[i] : 0) ^ (unsigned char)b[i];
	return d == 0;
}

int cfg_admin_check(const struct edge_cfg *cfg, const char *user, const char *password)
{
	/* an unknown user costs a hash too, so the time does not tell who exists */
	static const char dummy[] = "$y$j9T$krVVmbffYR9fbOzGEPGOy1$"
				    "puaJMOS.DCYO.mlkKZAIRSgc29wc9i/TgNUEl2F2Py5";
	int i = cfg_admin_find(cfg, user);
	const char *hash = i >= 0 ? cfg->admins[i].hash : dummy;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	bool ok;

	if (!cd)
		return -ENOMEM;
	ok = crypt_rn(password, hash, cd, sizeof(*cd)) && cd->output[0] != '*' &&
		same_secret(cd->output, hash) && i >= 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok ? 0 : -EACCES;
}

/* A list of "<if>:<port>" strings. */
static int load_listens(const config_setting_t *g, const char *grp, const char *key,
	const struct edge_cfg *cfg, struct cfg_listen *out, int *n, char *err, size_t errlen)
{
	const config_setting_t *l = config_setting_get_member(g, key);
	int line = l ? config_setting_source_line(l) : 0;

	if (l && !config_setting_is_array(l) && !config_setting_is_list(l))
		return ERR("line %d: %s.%s: expected a list [ \"<if>:<port>\", ... ]", line, grp,
			key);
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const char *v = config_setting_get_string_elem(l, i);
		int r;

		if (i >= WEB_MAX_LISTEN)
			return ERR("line %d: %s.%s: more than %d listeners", line, grp, key,
				WEB_MAX_LISTEN);
		if (!v)
			return ERR("line %d: %s.%s: expected strings \"<if>:<port>\"", line, grp,
				key);
		r = cfg_parse_listen(cfg, v, &out[i]);
		if (r == -ENOENT)
			return ERR("line %d: %s.%s: '%s': no such interface", line, grp, key, v);
		if (r == -ERANGE)
			return ERR("line %d: %s.%s: '%s': port must be 1..65535", line, grp, key,
				v);
		if (r < 0)
			return ERR("line %d: %s.%s: '%s': expected <if>:<port>", line, grp, key, v);
		for (int k = 0; k < i; k++)
			if (out[k].ifi == out[i].ifi && out[k].port == out[i].port)
				return ERR("line %d: %s.%s: '%s' given twice", line, grp, key, v);
		*n = i + 1;
	}
	return 0;
}

static int load_webbridge3(const config_setting_t *g, struct edge_cfg *cfg, char *err,
	size_t errlen)
{
	struct cfg_webbridge3 *w = &cfg->wb3;
	int port = w->meetingapps_port;

	if (BOOL(g, "webbridge3", "enabled", &w->enabled) < 0 ||
		BOOL(g, "webbridge3", "http_redirect", &w->http_redirect) < 0 ||
		BOOL(g, "webbridge3", "audio_priority", &w->audio_priority) < 0 ||
		STR(g, "https_key", w->https_key) < 0 || STR(g, "https_cert", w->https_cert) < 0 ||
		STR(g, "frame_ancestors", w->frame_ancestors) < 0 ||
		STR(g, "c2w_key", w->c2w_key) < 0 || STR(g, "c2w_cert", w->c2w_cert) < 0 ||
		STR(g, "c2w_trust", w->c2w_trust) < 0 ||
		STR(g, "meetingapps_host", w->meetingapps_host) < 0 ||
		STR(g, "meetingapps_secret", w->meetingapps_secret) < 0 ||
		STR(g, "options", w->options) < 0 || STR(g, "webapp_dir", w->webapp_dir) < 0 ||
		load_listens(g, "webbridge3", "https_listen", cfg, w->https, &w->n_https, err,
			errlen) < 0 ||
		load_listens(g, "webbridge3", "c2w_listen", cfg, w->c2w, &w->n_c2w, err, errlen) <
			0 ||
		load_range(g, "webbridge3", "meetingapps_port", 0, 65535, &port, err, errlen) < 0)
		return -EINVAL;
	w->meetingapps_port = (uint16_t)port;
	return 0;
}

static int load_callbridge(const config_setting_t *g, struct edge_cfg *cfg, char *err,
	size_t errlen)
{
	struct cfg_callbridge *c = &cfg->cb;

	if (BOOL(g, "callbridge", "enabled", &c->enabled) < 0 ||
		BOOL(g, "callbridge", "ucm_verify", &c->ucm_verify) < 0 ||
		BOOL(g, "callbridge", "imps_verify", &c->imps_verify) < 0 ||
		BOOL(g, "callbridge", "simulcast", &c->simulcast) < 0 ||
		STR(g, "key", c->key) < 0 || STR(g, "cert", c->cert) < 0 ||
		STR(g, "bundle", c->bundle) < 0 || STR(g, "address", c->address) < 0 ||
		STR(g, "trust_c2w", c->trust_c2w) < 0 ||
		STR(g, "trust_cluster", c->trust_cluster) < 0 ||
		STR(g, "trust_branding", c->trust_branding) < 0 ||
		STR(g, "ucm_trust", c->ucm_trust) < 0 || STR(g, "imps_trust", c->imps_trust) < 0 ||
		STR(g, "db_path", c->db_path) < 0 ||
		load_ifname(g, "callbridge", "prefer", cfg, &c->prefer_if, err, errlen) < 0 ||
		load_range(g, "callbridge", "jwt_expiry_hours", 1, 24, &c->jwt_expiry_hours, err,
			errlen) < 0 ||
		load_ifmask(g, "callbridge", cfg, &c->listen_mask, err, errlen) < 0 ||
		load_listens(g, "callbridge", "media", cfg, c->media, &c->n_media, err, errlen) < 0)
		return -EINVAL;
	for (int i = 1; i < c->n_media; i++)
		for (int k = 0; k < i; k++)
			if (c->media[k].ifi == c->media[i].ifi)
				return ERR("callbridge.media: one media port per interface (%s twice)",
					cfg->ifs[c->media[i].ifi].name);
	return 0;
}

static int load_webadmin(const config_setting_t *g, struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_webadmin *w = &cfg->webadmin;
	int port = w->port;

	if (BOOL(g, "webadmin", "enabled", &w->enabled) < 0 ||
		BOOL(g, "webadmin", "http_redirect", &w->http_redirect) < 0 ||
		STR(g, "key", w->key) < 0 || STR(g, "cert", w->cert) < 0 ||
		STR(g, "bundle", w->bundle) < 0 ||
		load_ifname(g, "webadmin", "listen", cfg, &w->ifi, err, errlen) < 0 ||
		load_range(g, "webadmin", "port", 1, 65535, &port, err, errlen) < 0)
		return -EINVAL;
	w->port = (uint16_t)port;
	return 0;
}

/* admins = ( { name = "admin"; role = "admin"; hash = "$y$..."; }, ... ); */
static int load_admins(const config_setting_t *l, struct edge_cfg *cfg, char *err, size_t errlen)
{
	if (!config_setting_is_list(l))
		return ERR("line %d: 'admins' must be a list ( {...}, ... )",
			config_setting_source_line(l));
	for (int i = 0; i < config_setting_length(l); i++) {
		const config_setting_t *u = config_setting_get_elem(l, i);
		struct cfg_admin *a = &cfg->admins[i];
		int line = config_setting_source_line(u);

		if (i >= WEB_MAX_ADMINS)
			return ERR("line %d: admins: more than %d", line, WEB_MAX_ADMINS);
		if (STR(u, "name", a->name) < 0 || STR(u, "role", a->role) < 0 ||
			STR(u, "hash", a->hash) < 0)
			return -EINVAL;
		if (!cfg_admin_name_ok(a->name))
			return ERR("line %d: admins: name '%s': expected [a-z_][a-z0-9_.-]{0,30}",
				line, a->name);
		if (!cfg_admin_role_ok(a->role))
			return ERR("line %d: admins: %s: role '%s': must be admin, api, audit or "
				   "appadmin",
				line, a->name, a->role);
		if (a->hash[0] != '$') /* none of it shown: it may be a password */
			return ERR("line %d: admins: %s: hash: expected a crypt(3) hash such as "
				   "\"$y$...\"",
				line, a->name);
		for (int k = 0; k < i; k++)
			if (!strcmp(cfg->admins[k].name, a->name))
				return ERR("line %d: admins: '%s' is defined twice", line, a->name);
		cfg->n_admins = i + 1;
	}
	return 0;
}

static int load_metrics(const config_setting_t *g, struct edge_cfg *cfg, char *err, size_t errlen);
static int load_syslog(const config_setting_t *g, struct edge_cfg *cfg, char *err, size_t errlen);

static int load_web(const config_t *c, struct edge_cfg *cfg, char *err, size_t errlen)
{
	const config_setting_t *s;
	const char *str;

	if ((s = config_lookup(c, "role"))) {
		int r = -1;

		str = config_setting_get_string(s);
		for (int i = 0; str && i < (int)(sizeof(role_names) / sizeof(role_names[0])); i++)
			if (!strcmp(str, role_names[i]))
				r = i;
		if (r < 0)
			return ERR("line %d: role '%s': must be both, edge or core",
				config_setting_source_line(s), str ? str : "?");
		cfg->role = (enum edge_role)r;
	}
	if ((s = config_lookup(c, "webbridge3")) && load_webbridge3(s, cfg, err, errlen) < 0)
		return -EINVAL;
	if ((s = config_lookup(c, "callbridge")) && load_callbridge(s, cfg, err, errlen) < 0)
		return -EINVAL;
	if ((s = config_lookup(c, "webadmin")) && load_webadmin(s, cfg, err, errlen) < 0)
		return -EINVAL;
	if ((s = config_lookup(c, "admins")) && load_admins(s, cfg, err, errlen) < 0)
		return -EINVAL;
	if ((s = config_lookup(c, "metrics")) && load_metrics(s, cfg, err, errlen) < 0)
		return -EINVAL;
	if ((s = config_lookup(c, "syslog")) && load_syslog(s, cfg, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

/* eal, dataplane and mgmt */
static int load_basics(const config_t *c, struct edge_cfg *cfg, char *err, size_t errlen)
{
	const config_setting_t *s;
	const char *str;
	int r;

	if ((s = config_lookup(c, "eal")) &&
		(STR(s, "cores", cfg->cores) < 0 || STR(s, "extra", cfg->eal_extra) < 0 ||
			load_range(s, "eal", "memory_mb", 64, 1 << 20, &cfg->memory_mb, err,
				errlen) < 0 ||
			BOOL(s, "eal", "hugepages", &cfg->hugepages) < 0))
		return -EINVAL;
	if ((s = config_lookup(c, "dataplane")) &&
		(load_range(s, "dataplane", "burst", 1, EDGE_MAX_BURST, &cfg->burst, err, errlen) <
				0 ||
			load_range(s, "dataplane", "idle_sleep_us", 0, 100000, &cfg->idle_sleep_us,
				err, errlen) < 0 ||
			load_range(s, "dataplane", "arp_timeout", 10, 86400, &cfg->arp_timeout_s,
				err, errlen) < 0))
		return -EINVAL;
	if (!(s = config_lookup(c, "mgmt")))
		return 0;
	if (STR(s, "socket", cfg->ctl_socket) < 0 || STR(s, "cert_dir", cfg->cert_dir) < 0 ||
		STR(s, "log_file", cfg->log_file) < 0 || STR(s, "socket_group", cfg->ctl_group) < 0)
		return -EINVAL;
	/* a group name as useradd(8) takes one; whether it exists is checked at start */
	for (const char *p = cfg->ctl_group; *p; p++)
		if (!(islower((unsigned char)*p) || *p == '_' ||
			    (p > cfg->ctl_group && (isdigit((unsigned char)*p) || *p == '-'))))
			return ERR("mgmt.socket_group '%s': not a group name", cfg->ctl_group);
	if ((r = load_cstr(s, "mgmt", "log", &str, err, errlen)) < 0)
		return r;
	if (r) {
		if (!strcmp(str, "stderr"))
			cfg->log_target = LOG_TARGET_STDERR;
		else if (!strcmp(str, "file"))
			cfg->log_target = LOG_TARGET_FILE;
		else if (!strcmp(str, "syslog"))
			cfg->log_target = LOG_TARGET_SYSLOG;
		else
			return ERR("mgmt.log '%s': must be stderr, file or syslog", str);
	}
	if ((r = load_cstr(s, "mgmt", "log_level", &str, err, errlen)) < 0)
		return r;
	if (r && (cfg->log_level = level_parse(str)) < 0)
		return ERR("mgmt.log_level '%s': must be err, warning, notice, info or debug", str);
	if (cfg->log_target == LOG_TARGET_FILE && !cfg->log_file[0])
		return ERR("mgmt.log is 'file' but mgmt.log_file is not set");
	return 0;
}

static const char *const syslog_transports[] = { "udp", "tcp", "tls" };

const char *cfg_syslog_transport_name(enum cfg_syslog_transport t)
{
	return (unsigned int)t < 3 ? syslog_transports[t] : "?";
}

int cfg_syslog_transport_parse(const char *s, enum cfg_syslog_transport *t)
{
	for (int i = 0; i < 3; i++)
		if (!strcasecmp(s, syslog_transports[i])) {
			*t = (enum cfg_syslog_transport)i;
			return 0;
		}
	return -EINVAL;
}

int cfg_syslog_server_parse(const char *hostport, enum cfg_syslog_transport t,
	struct cfg_syslog_server *out, char *err, size_t errlen)
{
	const char *host = hostport, *colon, *end;
	size_t hlen;
	long port = t == CFG_SYSLOG_TLS ? 6514 : 514;
	char *e;

	if (*host == '[') { /* [v6]:port */
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return ERR("'%s': missing ']' (expected [<IPv6 address>]:<port>)",
				hostport);
		host++;
		hlen = (size_t)(end - host);
		if (!memchr(host, ':', hlen)) /* brackets are for IPv6 addresses only */
			return ERR("'%s': expected [<IPv6 address>]:<port>", hostport);
		colon = end[1] ? end + 1 : NULL;
	} else {
		colon = strchr(host, ':');
		if (colon && strchr(colon + 1, ':')) /* a bare IPv6 literal, no port */
			colon = NULL;
		hlen = colon ? (size_t)(colon - host) : strlen(host);
	}
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &e, 10);
		if (!colon[1] || *e || errno || port < 1 || port > 65535)
			return ERR("'%s': port must be 1..65535 (not '%s')", hostport, colon + 1);
	}
	if (!hlen || hlen >= sizeof(out->host))
		return ERR("'%s': %s", hostport, hlen ? "host name too long" : "missing host");
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-:_", host[i]))
			return ERR("'%s': not a host name or address", hostport);
	memset(out, 0, sizeof(*out));
	memcpy(out->host, host, hlen);
	out->port = (uint16_t)port;
	out->transport = t;
	return 0;
}

/* metrics = { enabled = true; listen = "a"; port = 9100; allow = [ "198.18.0.0/15" ];
 *	key = "m.key"; cert = "m.crt"; }; */
static int load_metrics(const config_setting_t *g, struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_metrics *m = &cfg->metrics;
	const config_setting_t *list;
	int port = m->port;

	if (BOOL(g, "metrics", "enabled", &m->enabled) < 0 ||
		load_ifname(g, "metrics", "listen", cfg, &m->ifi, err, errlen) < 0 ||
		load_range(g, "metrics", "port", 1, 65535, &port, err, errlen) < 0 ||
		STR(g, "key", m->key) < 0 || STR(g, "cert", m->cert) < 0 ||
		load_list(g, "metrics", "allow", "[ \"a.b.c.d/n\", ... ]", &list, err, errlen) < 0)
		return -EINVAL;
	m->port = (uint16_t)port;
	for (int i = 0; list && i < config_setting_length(list); i++) {
		const char *v = config_setting_get_string_elem(list, i);
		uint32_t a;
		uint8_t len;

		if (i >= CFG_METRICS_MAX_ALLOW)
			return ERR("metrics.allow: more than %d entries", CFG_METRICS_MAX_ALLOW);
		if (!v || cfg_parse_prefix(v, &a, &len) < 0)
			return ERR("line %d: metrics.allow: '%s': expected a.b.c.d/prefix",
				config_setting_source_line(list), v ? v : "?");
		m->allow[i] = (struct cfg_prefix){ a & (len ? htonl(~0u << (32 - len)) : 0), len };
		m->n_allow = i + 1;
	}
	if (!m->key[0] != !m->cert[0])
		return ERR("metrics: key and cert go together (both for HTTPS, neither for HTTP)");
	if (m->enabled && m->ifi < 0)
		return ERR("metrics: enabled without 'listen' (the interface to serve on)");
	return 0;
}

/* syslog = { enabled = true; ca = "ca.pem";
 *	servers = ( { host = "198.18.20.2"; port = 514; transport = "udp"; } ); }; */
static int load_syslog(const config_setting_t *g, struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_syslog *sl = &cfg->syslog;
	const config_setting_t *list = config_setting_get_member(g, "servers");

	if (BOOL(g, "syslog", "enabled", &sl->enabled) < 0 || STR(g, "ca", sl->ca) < 0)
		return -EINVAL;
	if (list && !config_setting_is_list(list))
		return ERR("line %d: syslog.servers: expected ( { host = ...; }, ... )",
			config_setting_source_line(list));
	for (int i = 0; list && i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		const char *host = NULL, *tr = "udp";
		enum cfg_syslog_transport t;
		char hp[160], e2[200];
		int port = 0;

		if (i >= CFG_SYSLOG_MAX_SERVERS)
			return ERR("syslog.servers: more than %d servers", CFG_SYSLOG_MAX_SERVERS);
		if (!config_setting_is_group(e) || !config_setting_lookup_string(e, "host", &host))
			return ERR("line %d: syslog.servers: an entry without 'host'",
				config_setting_source_line(e));
		config_setting_lookup_string(e, "transport", &tr);
		if (cfg_syslog_transport_parse(tr, &t) < 0)
			return ERR("line %d: syslog.servers: transport '%s': must be udp, tcp or tls",
				config_setting_source_line(e), tr);
		if (load_range(e, "syslog.servers", "port", 1, 65535, &port, err, errlen) < 0)
			return -EINVAL;
		snprintf(hp, sizeof(hp), strchr(host, ':') && port ? "[%s]" : "%s", host);
		if (port)
			snprintf(hp + strlen(hp), sizeof(hp) - strlen(hp), ":%d", port);
		if (cfg_syslog_server_parse(hp, t, &sl->servers[i], e2, sizeof(e2)) < 0)
			return ERR("line %d: syslog.servers: %s", config_setting_source_line(e),
				e2);
		sl->n_servers = i + 1;
	}
	return 0;
}

#undef STR
#undef BOOL

/* --- the file's format version --- */

/* A step rewrites the parsed file of format version from into from + 1's before it is read:
 * a renamed or moved setting, a changed unit. */
struct cfg_step {
	int from;
	const char *what;
	int (*run)(config_t *c, char *err, size_t errlen);
};

/* None yet: format 1 is every file written so far (no setting has been renamed, moved or
 * given a new meaning since the first; new settings have defaults and need no step). The
 * entry is an end mark; a step 1 to 2 goes before it. */
static const struct cfg_step cfg_steps[] = {
	{ 0, NULL, NULL },
};

_Static_assert(sizeof(cfg_steps) / sizeof(cfg_steps[0]) == EDGE_CFG_FORMAT_VERSION,
	"an upgrade step for every format version after 1");

/* The file's version (1 when absent), refused when newer than this build's; older ones are
 * brought to this build's by the steps. 0 or -EINVAL with the reason in err. */
static int upgrade_format(config_t *c, char *err, size_t errlen)
{
	const config_setting_t *s = config_lookup(c, "version");
	int version = 1;

	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 1)
			return ERR("line %d: version must be a whole number, 1 or more",
				config_setting_source_line(s));
		version = config_setting_get_int(s);
	}
	if (version > EDGE_CFG_FORMAT_VERSION)
		return ERR("configuration format version %d is newer than this build's %d", version,
			EDGE_CFG_FORMAT_VERSION);
	for (const struct cfg_step *st = cfg_steps; st->run; st++) {
		char e[256];

		if (st->from < version)
			continue;
		if (st->run(c, e, sizeof(e)) < 0)
			return ERR("upgrading the format from version %d to %d (%s): %s", st->from,
				st->from + 1, st->what, e);
	}
	return 0;
}

int cfg_load(const char *path, struct edge_cfg *cfg, char *err, size_t errlen)
{
	config_t c;
	const config_setting_t *s;
	const char *str;
	int rc = -EINVAL;
	char e[300];

	cfg_defaults(cfg);
	config_init(&c);
	if (!config_read_file(&c, path)) {
		if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&c),
				config_error_text(&c));
		goto out;
	}
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(e, sizeof(e), __VA_ARGS__);                                               \
		FAILE();                                                                           \
	} while (0)
#define FAILE()                                                                                    \
	do {                                                                                       \
		snprintf(err, errlen, "%s: %s", path, e);                                          \
		goto out;                                                                          \
	} while (0)
	if (upgrade_format(&c, e, sizeof(e)) < 0 || load_basics(&c, cfg, e, sizeof(e)) < 0)
		FAILE();
	s = config_lookup(&c, "interfaces");
	if (s && !config_setting_is_list(s))
		FAIL("line %d: 'interfaces' must be a list ( {...}, ... )",
			config_setting_source_line(s));
	for (int i = 0; s && i < config_setting_length(s); i++) {
		if (i >= EDGE_MAX_IFACES)
			FAIL("more than %d interfaces", EDGE_MAX_IFACES);
		if (load_iface(config_setting_get_elem(s, i), &cfg->ifs[i], cfg, i, e, sizeof(e)) <
			0)
			FAILE();
	}
	if ((s = config_lookup(&c, "turn")) && load_turn(s, cfg, e, sizeof(e)) < 0)
		FAILE();
	if (load_web(&c, cfg, e, sizeof(e)) < 0)
		FAILE();
	if ((s = config_lookup(&c, "ipv4_default"))) {
		str = config_setting_get_string(s);
		if (!str || (cfg->default_if = cfg_iface_find(cfg, str)) < 0)
			FAIL("line %d: ipv4_default '%s': no such interface",
				config_setting_source_line(s), str ? str : "?");
	}
#undef FAIL
#undef FAILE
	rc = 0;
out:
	config_destroy(&c);
	return rc;
}

static void set_str(config_setting_t *grp, const char *key, const char *v)
{
	config_setting_set_string(config_setting_add(grp, key, CONFIG_TYPE_STRING), v);
}

/* listen = [ "<if>", ... ] from a bit per interface */
static void save_ifmask(config_setting_t *grp, const struct edge_cfg *cfg, uint8_t mask)
{
	config_setting_t *l = config_setting_add(grp, "listen", CONFIG_TYPE_ARRAY);

	for (int i = 0; i < cfg->n_ifs; i++)
		if (mask & (1u << i))
			config_setting_set_string_elem(l, -1, cfg->ifs[i].name);
}

static void set_int(config_setting_t *grp, const char *key, int v)
{
	config_setting_set_int(config_setting_add(grp, key, CONFIG_TYPE_INT), v);
}

static void set_bool(config_setting_t *grp, const char *key, bool v)
{
	config_setting_set_bool(config_setting_add(grp, key, CONFIG_TYPE_BOOL), v);
}

static void save_prefixes(config_setting_t *g, const char *key, const struct cfg_prefix *p, int n,
	const struct cfg_prefix6 *p6, int n6)
{
	config_setting_t *l = config_setting_add(g, key, CONFIG_TYPE_ARRAY);
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 4];

	for (int i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", cfg_ipv4_str(p[i].addr, a), p[i].len);
		config_setting_set_string_elem(l, -1, buf);
	}
	for (int i = 0; i < n6; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", cfg_ipv6_str(p6[i].addr, a), p6[i].len);
		config_setting_set_string_elem(l, -1, buf);
	}
}

static void save_turn(config_setting_t *root, const struct edge_cfg *cfg)
{
	const struct cfg_turn *t = &cfg->turn;
	config_setting_t *g = config_setting_add(root, "turn", CONFIG_TYPE_GROUP), *l;
	char a[16], buf[16];

	set_bool(g, "enabled", t->enabled);
	set_str(g, "realm", t->realm);
	l = config_setting_add(g, "users", CONFIG_TYPE_LIST);
	for (int i = 0; i < t->n_users; i++) {
		config_setting_t *u = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);
		set_str(u, "name", t->users[i].name);
		set_str(u, "password", t->users[i].password);
	}
	set_bool(g, "short_term", t->short_term);
	set_str(g, "shared_secret", t->shared_secret);
	set_str(g, "public_ip", t->public_ip ? cfg_ipv4_str(t->public_ip, a) : "");
	set_bool(g, "high_capacity", t->high_capacity);
	set_int(g, "port", t->port);
	set_int(g, "tls_port", t->tls_port);
	set_int(g, "browser_port", t->browser_port);
	set_str(g, "tls_key", t->tls_key);
	set_str(g, "tls_cert", t->tls_cert);
	set_str(g, "tls_bundle", t->tls_bundle);
	save_ifmask(g, cfg, t->listen_mask);
	snprintf(buf, sizeof(buf), "%u-%u", t->relay_lo, t->relay_hi);
	set_str(g, "relay_ports", buf);
	set_int(g, "max_allocations", (int)t->max_allocs);
	set_int(g, "max_allocations_per_user", (int)t->max_allocs_per_user);
	set_int(g, "bandwidth_kbps", (int)t->bandwidth_kbps);
	set_int(g, "lifetime_max", (int)t->lifetime_max);
	set_int(g, "max_connections", (int)t->max_conns);
	set_int(g, "max_connections_per_address", (int)t->max_conns_per_addr);
	set_int(g, "handshake_timeout", (int)t->handshake_timeout);
	set_int(g, "idle_timeout", (int)t->idle_timeout);
	save_prefixes(g, "denied_peers", t->denied, t->n_denied, t->denied6, t->n_denied6);
	save_prefixes(g, "allowed_peers", t->allowed, t->n_allowed, t->allowed6, t->n_allowed6);
}

static void save_listens(config_setting_t *g, const char *key, const struct edge_cfg *cfg,
	const struct cfg_listen *l, int n)
{
	config_setting_t *a = config_setting_add(g, key, CONFIG_TYPE_ARRAY);
	char buf[24];

	for (int i = 0; i < n; i++)
		config_setting_set_string_elem(a, -1, cfg_listen_str(cfg, &l[i], buf, sizeof(buf)));
}

static void save_web(config_setting_t *root, const struct edge_cfg *cfg)
{
	const struct cfg_webbridge3 *w = &cfg->wb3;
	const struct cfg_callbridge *c = &cfg->cb;
	const struct cfg_webadmin *wa = &cfg->webadmin;
	config_setting_t *g, *l;

	set_str(root, "role", role_names[cfg->role]);
	g = config_setting_add(root, "webbridge3", CONFIG_TYPE_GROUP);
	set_bool(g, "enabled", w->enabled);
	save_listens(g, "https_listen", cfg, w->https, w->n_https);
	set_str(g, "https_key", w->https_key);
	set_str(g, "https_cert", w->https_cert);
	set_str(g, "frame_ancestors", w->frame_ancestors);
	set_bool(g, "http_redirect", w->http_redirect);
	save_listens(g, "c2w_listen", cfg, w->c2w, w->n_c2w);
	set_str(g, "c2w_key", w->c2w_key);
	set_str(g, "c2w_cert", w->c2w_cert);
	set_str(g, "c2w_trust", w->c2w_trust);
	set_str(g, "meetingapps_host", w->meetingapps_host);
	set_int(g, "meetingapps_port", w->meetingapps_port);
	set_str(g, "meetingapps_secret", w->meetingapps_secret);
	set_bool(g, "audio_priority", w->audio_priority);
	set_str(g, "options", w->options);
	set_str(g, "webapp_dir", w->webapp_dir);

	g = config_setting_add(root, "callbridge", CONFIG_TYPE_GROUP);
	set_bool(g, "enabled", c->enabled);
	save_ifmask(g, cfg, c->listen_mask);
	set_str(g, "prefer", c->prefer_if >= 0 ? cfg->ifs[c->prefer_if].name : "");
	set_str(g, "key", c->key);
	set_str(g, "cert", c->cert);
	set_str(g, "bundle", c->bundle);
	set_str(g, "address", c->address);
	set_str(g, "trust_c2w", c->trust_c2w);
	set_str(g, "trust_cluster", c->trust_cluster);
	set_str(g, "trust_branding", c->trust_branding);
	set_str(g, "ucm_trust", c->ucm_trust);
	set_bool(g, "ucm_verify", c->ucm_verify);
	set_str(g, "imps_trust", c->imps_trust);
	set_bool(g, "imps_verify", c->imps_verify);
	set_int(g, "jwt_expiry_hours", c->jwt_expiry_hours);
	set_str(g, "db_path", c->db_path);
	save_listens(g, "media", cfg, c->media, c->n_media);
	set_bool(g, "simulcast", c->simulcast);

	g = config_setting_add(root, "webadmin", CONFIG_TYPE_GROUP);
	set_bool(g, "enabled", wa->enabled);
	set_str(g, "listen", wa->ifi >= 0 ? cfg->ifs[wa->ifi].name : "");
	set_int(g, "port", wa->port);
	set_str(g, "key", wa->key);
	set_str(g, "cert", wa->cert);
	set_str(g, "bundle", wa->bundle);
	set_bool(g, "http_redirect", wa->http_redirect);

	l = config_setting_add(root, "admins", CONFIG_TYPE_LIST);
	for (int i = 0; i < cfg->n_admins; i++) {
		config_setting_t *u = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);

		set_str(u, "name", cfg->admins[i].name);
		set_str(u, "role", cfg->admins[i].role);
		set_str(u, "hash", cfg->admins[i].hash);
	}
}

static void save_obs(config_setting_t *root, const struct edge_cfg *cfg)
{
	const struct cfg_metrics *m = &cfg->metrics;
	const struct cfg_syslog *sl = &cfg->syslog;
	config_setting_t *g, *l;

	g = config_setting_add(root, "metrics", CONFIG_TYPE_GROUP);
	set_bool(g, "enabled", m->enabled);
	if (m->ifi >= 0)
		set_str(g, "listen", cfg->ifs[m->ifi].name);
	set_int(g, "port", m->port);
	l = config_setting_add(g, "allow", CONFIG_TYPE_ARRAY);
	for (int i = 0; i < m->n_allow; i++) {
		char a[16], buf[24];

		snprintf(buf, sizeof(buf), "%s/%u", cfg_ipv4_str(m->allow[i].addr, a),
			m->allow[i].len);
		config_setting_set_string_elem(l, -1, buf);
	}
	set_str(g, "key", m->key);
	set_str(g, "cert", m->cert);
	g = config_setting_add(root, "syslog", CONFIG_TYPE_GROUP);
	set_bool(g, "enabled", sl->enabled);
	set_str(g, "ca", sl->ca);
	l = config_setting_add(g, "servers", CONFIG_TYPE_LIST);
	for (int i = 0; i < sl->n_servers; i++) {
		config_setting_t *e = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);

		set_str(e, "host", sl->servers[i].host);
		set_int(e, "port", sl->servers[i].port);
		set_str(e, "transport", cfg_syslog_transport_name(sl->servers[i].transport));
	}
}

/* An interface's IPv6 addresses and routes, when it has any (RFC 5952 text). */
static void save_ipv6(config_setting_t *e, const struct cfg_iface *ifc)
{
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 4];

	if (ifc->n_addrs6) {
		config_setting_t *l = config_setting_add(e, "ipv6", CONFIG_TYPE_LIST);

		for (int j = 0; j < ifc->n_addrs6; j++) {
			config_setting_t *ae = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);

			snprintf(pfx, sizeof(pfx), "%s/%u", cfg_ipv6_str(ifc->addrs6[j].addr, a),
				ifc->addrs6[j].prefix);
			set_str(ae, "address", pfx);
			if (!v6_zero(ifc->addrs6[j].gateway))
				set_str(ae, "gateway", cfg_ipv6_str(ifc->addrs6[j].gateway, g));
		}
	}
	if (ifc->n_routes6) {
		config_setting_t *l = config_setting_add(e, "routes6", CONFIG_TYPE_LIST);

		for (int j = 0; j < ifc->n_routes6; j++) {
			config_setting_t *re = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);

			snprintf(pfx, sizeof(pfx), "%s/%u", cfg_ipv6_str(ifc->routes6[j].net, a),
				ifc->routes6[j].prefix);
			set_str(re, "net", pfx);
			set_str(re, "gateway", cfg_ipv6_str(ifc->routes6[j].gateway, g));
		}
	}
}

int cfg_save(const char *path, const struct edge_cfg *cfg, char *err, size_t errlen)
{
	static const char *targets[] = { "stderr", "file", "syslog" };
	config_t c;
	config_setting_t *root, *g, *list;
	char tmp[512], a[16];
	int rc = 0, fd;
	FILE *f;

	config_init(&c);
	root = config_root_setting(&c);
	set_int(root, "version", EDGE_CFG_FORMAT_VERSION);
	g = config_setting_add(root, "eal", CONFIG_TYPE_GROUP);
	set_str(g, "cores", cfg->cores);
	set_int(g, "memory_mb", cfg->memory_mb);
	config_setting_set_bool(config_setting_add(g, "hugepages", CONFIG_TYPE_BOOL),
		cfg->hugepages);
	set_str(g, "extra", cfg->eal_extra);
	g = config_setting_add(root, "dataplane", CONFIG_TYPE_GROUP);
	set_int(g, "burst", cfg->burst);
	set_int(g, "idle_sleep_us", cfg->idle_sleep_us);
	set_int(g, "arp_timeout", cfg->arp_timeout_s);
	g = config_setting_add(root, "mgmt", CONFIG_TYPE_GROUP);
	set_str(g, "socket", cfg->ctl_socket);
	if (cfg->ctl_group[0])
		set_str(g, "socket_group", cfg->ctl_group);
	set_str(g, "log", targets[cfg->log_target]);
	set_str(g, "log_file", cfg->log_file);
	set_str(g, "log_level", level_names[cfg->log_level]);
	set_str(g, "cert_dir", cfg->cert_dir);
	list = config_setting_add(root, "interfaces", CONFIG_TYPE_LIST);
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];
		config_setting_t *e = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		config_setting_t *v4;

		set_str(e, "name", ifc->name);
		set_str(e, "port", ifc->port);
		set_str(e, "tap", ifc->tap);
		if (ifc->rx_queues)
			set_int(e, "rx_queues", ifc->rx_queues);
		if (ifc->fw.enabled || ifc->fw.n_rules || ifc->fw.default_action != FW_ALLOW) {
			config_setting_t *fg = config_setting_add(e, "firewall", CONFIG_TYPE_GROUP);
			config_setting_t *rl;

			config_setting_set_bool(config_setting_add(fg, "enabled", CONFIG_TYPE_BOOL),
				ifc->fw.enabled);
			set_str(fg, "default",
				ifc->fw.default_action == FW_DENY ? "deny" : "allow");
			rl = config_setting_add(fg, "rules", CONFIG_TYPE_ARRAY);
			for (int k = 0; k < ifc->fw.n_rules; k++) {
				char rule[128];

				fw_rule_format(&ifc->fw.rules[k], rule, sizeof(rule));
				config_setting_set_string_elem(rl, -1, rule);
			}
		}
		v4 = config_setting_add(e, "ipv4", CONFIG_TYPE_LIST);
		for (int j = 0; j < ifc->n_addrs; j++) {
			config_setting_t *ae = config_setting_add(v4, NULL, CONFIG_TYPE_GROUP);
			char pfx[24];

			snprintf(pfx, sizeof(pfx), "%s/%u", cfg_ipv4_str(ifc->addrs[j].addr, a),
				ifc->addrs[j].prefix);
			set_str(ae, "address", pfx);
			if (ifc->addrs[j].gateway)
				set_str(ae, "gateway", cfg_ipv4_str(ifc->addrs[j].gateway, a));
		}
		if (ifc->n_routes) {
			config_setting_t *rt = config_setting_add(e, "routes", CONFIG_TYPE_ARRAY);

			for (int j = 0; j < ifc->n_routes; j++) {
				char line[48], g[16];

				snprintf(line, sizeof(line), "%s/%u %s",
					cfg_ipv4_str(ifc->routes[j].net, a), ifc->routes[j].prefix,
					cfg_ipv4_str(ifc->routes[j].gateway, g));
				config_setting_set_string_elem(rt, -1, line);
			}
		}
		save_ipv6(e, ifc);
	}
	if (cfg->default_if >= 0)
		set_str(root, "ipv4_default", cfg->ifs[cfg->default_if].name);
	save_turn(root, cfg);
	save_web(root, cfg);
	save_obs(root, cfg);

	/* 0600 from the start: admin password hashes, meetingapps_secret, TURN credentials */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && !unlink(tmp)) /* one a crash of ours left */
		fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(-rc));
		config_destroy(&c);
		return rc;
	}
	if (!(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
	} else {
		errno = 0;
		config_write(&c, f);
		if (fflush(f) || ferror(f) || fsync(fd))
			rc = errno ? -errno : -EIO;
		if (fclose(f) && !rc)
			rc = errno ? -errno : -EIO;
	}
	if (rc) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(-rc));
		unlink(tmp);
	} else if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		/* the rename itself is durable once the directory is: after a power cut the file
		 * is the old one or the new one, never neither */
		char dir[sizeof(tmp)];
		const char *slash = strrchr(path, '/');
		int dfd;

		snprintf(dir, sizeof(dir), "%.*s",
			slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	config_destroy(&c);
	return rc;
}
