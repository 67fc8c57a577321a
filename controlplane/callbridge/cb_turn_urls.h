/* The TURN URLs a guest's browser is handed for one TURN server: a pure function, header only
 * (the callbridge and its unit test share it). Chromium ignores TURN servers on ports below 1024
 * other than 53, 80 and 443 (WebRTC's TURN port rule), so such a URL is never handed out. */
#ifndef EDGE_CB_TURN_URLS_H
#define EDGE_CB_TURN_URLS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "edge_config.h"

#define CB_TURN_URLS_MAX 6
#define CB_TURN_BROWSER_PORT 443 /* our TURN server's browser port (turn browser-port) */

struct cb_turn_urls {
	char url[CB_TURN_URLS_MAX][300];
	int n;
	int dropped_port; /* a port left out under the port rule (the last one), or 0 */
};

/* Whether a browser uses a TURN server on @port. */
static inline bool cb_turn_port_ok(int port)
{
	return (port >= 1024 && port <= 65535) || port == 53 || port == 80 || port == 443;
}

static inline void cb_turn_url_add(struct cb_turn_urls *u, const char *scheme, const char *host,
	int port, const char *transport)
{
	if (!cb_turn_port_ok(port)) {
		u->dropped_port = port;
		return;
	}
	if (u->n < CB_TURN_URLS_MAX)
		snprintf(u->url[u->n++], sizeof(u->url[0]), "%s:%s:%d?transport=%s", scheme, host,
			port, transport);
}

/* The URLs for a TURN server at @addr ("host" or "host:port"), of /turnServers @type, with
 * tcpPortNumberOverride @tcp_port (0 = none): turn: over UDP and TCP on its port (3478 for
 * acano, cms and expressway, else 443, unless @addr names one); for our own (acano, cms)
 * also UDP and TLS on the browser port, which it listens on beside `turn tls <port>`; and
 * turns: on @tcp_port. Each only on a port browsers use. */
static inline void cb_turn_urls(const char *addr, const char *type, int tcp_port,
	struct cb_turn_urls *u)
{
	bool ours = !type || !*type || !strcmp(type, "acano") || !strcmp(type, "cms");
	char host[256], *colon;
	int port;

	memset(u, 0, sizeof(*u));
	/* acano, cms and expressway listen on 3478; lyncEdge and standard on 443 */
	port = ours || !strcmp(type, "expressway") ? 3478 : 443;
	if (addr[0] == '[') { /* "[v6]" or "[v6]:port": the brackets stay (RFC 7065 3.1) */
		const char *end = strchr(addr, ']');

		snprintf(host, sizeof(host), "%.*s", end ? (int)(end - addr + 1) : 0, addr);
		if (end && end[1] == ':')
			port = atoi(end + 2);
	} else if ((colon = strchr(addr, ':')) && strchr(colon + 1, ':')) {
		snprintf(host, sizeof(host), "[%s]", addr); /* a bare IPv6 address */
	} else {
		snprintf(host, sizeof(host), "%s", addr);
		if ((colon = strchr(host, ':'))) {
			*colon = '\0';
			port = atoi(colon + 1);
		}
	}
	cb_turn_url_add(u, "turn", host, port, "udp");
	cb_turn_url_add(u, "turn", host, port, "tcp");
	if (ours && port != CB_TURN_BROWSER_PORT) {
		cb_turn_url_add(u, "turn", host, CB_TURN_BROWSER_PORT, "udp");
		cb_turn_url_add(u, "turns", host, CB_TURN_BROWSER_PORT, "tcp");
	}
	/* tcpPortNumberOverride: the TLS port (`turn tls 447`: below 1024, so left out, and
	 * the browser port's TLS serves browsers instead) */
	if (tcp_port && tcp_port != port && !(ours && tcp_port == CB_TURN_BROWSER_PORT))
		cb_turn_url_add(u, "turns", host, tcp_port, "tcp");
}

/* Our own TURN server named by an IPv4 address of ours (@addr "a.b.c.d" or "a.b.c.d:port"):
 * the first IPv6 address of the same interface, as "[v6]" or "[v6]:port" in @out, when TURN
 * listens there (issue 18: a browser on an IPv6-only or dual-stack network reaches the relay
 * either way). False for another server's address, or with no IPv6 address there. */
static inline bool cb_turn_own_ipv6(const struct edge_cfg *cfg, const char *addr, char *out,
	size_t len)
{
	char host[64], v6[INET6_ADDRSTRLEN];
	const char *colon = strchr(addr, ':');
	struct in_addr ip;

	if (!cfg->turn.enabled ||
		snprintf(host, sizeof(host), "%.*s",
			colon ? (int)(colon - addr) : (int)strlen(addr),
			addr) >= (int)sizeof(host) ||
		inet_pton(AF_INET, host, &ip) != 1 || (colon && strchr(colon + 1, ':')))
		return false;
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *f = &cfg->ifs[i];
		bool has = false;

		for (int k = 0; k < f->n_addrs; k++)
			has |= f->addrs[k].addr == ip.s_addr;
		if (!has || !f->n_addrs6 || !(cfg->turn.listen_mask & (1u << i)))
			continue;
		inet_ntop(AF_INET6, f->addrs6[0].addr, v6, sizeof(v6));
		snprintf(out, len, "[%s]%s", v6, colon ? colon : "");
		return true;
	}
	return false;
}

#endif
