/* The appliance's configuration model: what edged -c FILE holds, what edgectl edits, and
 * what is written back to FILE after every change. Owned by the control plane (mgmt). */
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_limits.h"
#include "fw.h"

struct cfg_ipv4 {
	uint32_t addr;	  /* network byte order */
	uint8_t prefix;	  /* 0..32 */
	uint32_t gateway; /* network byte order; 0 = none */
};

/* A static route out of an interface: net/prefix via a gateway on one of its subnets. */
struct cfg_route {
	uint32_t net;	  /* network byte order, host bits zero */
	uint8_t prefix;	  /* 0..32 */
	uint32_t gateway; /* network byte order */
};

/* An IPv6 address of an interface (issue 18). Configured only: no SLAAC; the link-local
 * address (fe80::/64 from the MAC, EUI-64) is the data plane's, derived, never stored. */
struct cfg_ipv6 {
	uint8_t addr[16];    /* network byte order */
	uint8_t prefix;	     /* 1..128 */
	uint8_t gateway[16]; /* all zero: none; a global address on the prefix or a link-local */
};

/* A static IPv6 route out of an interface: net/prefix via a gateway. */
struct cfg_route6 {
	uint8_t net[16]; /* host bits zero */
	uint8_t prefix;	 /* 0..128 */
	uint8_t gateway[16];
};

struct cfg_iface {
	char name[EDGE_IFNAME_LEN];   /* "a", "b", ... */
	char port[EDGE_PORTSPEC_LEN]; /* PCI address or vdev string */
	char tap[16];		      /* kernel mirror name; "" = edge-<name> */
	struct cfg_ipv4 addrs[EDGE_MAX_ADDRS];
	int n_addrs;
	struct cfg_route routes[EDGE_MAX_ROUTES];
	int n_routes;
	struct cfg_ipv6 addrs6[EDGE_MAX_ADDRS]; /* issue 18 */
	int n_addrs6;
	struct cfg_route6 routes6[EDGE_MAX_ROUTES];
	int n_routes6;
	int rx_queues;		/* 0 = one per worker */
	struct fw_if_config fw; /* the interface's firewall */
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_FILE, LOG_TARGET_SYSLOG };

#define TURN_MAX_USERS 64
#define TURN_MAX_PEER_RULES 32

struct cfg_prefix {
	uint32_t addr; /* network byte order, host bits zero */
	uint8_t len;
};

/* An IPv6 prefix of TURN's peer policy (issue 18). */
struct cfg_prefix6 {
	uint8_t addr[16]; /* host bits zero */
	uint8_t len;	  /* 0..128 */
};

struct cfg_turn_user {
	char name[64];
	char password[64];
};

/* The guide's `turn` component (status page fields in comments). */
struct cfg_turn {
	bool enabled;				    /* Enabled */
	struct cfg_turn_user users[TURN_MAX_USERS]; /* Username, Password */
	int n_users;
	char realm[64];		 /* Realm */
	bool short_term;	 /* Short term credentials */
	char shared_secret[128]; /* Shared secret ("" = none) */
	uint32_t public_ip;	 /* Public IP (0 = none) */
	bool high_capacity;	 /* High Capacity Mode */
	uint16_t port;		 /* UDP and TCP port, 3478 */
	uint16_t tls_port;	 /* TLS port (0 = none) */
	/* ours: UDP, TCP and TLS on one port that browsers use (443; 0 = none): on every listen
	 * interface for UDP, and for TCP and TLS where no other component listens on it */
	uint16_t browser_port;
	char tls_key[128], tls_cert[128], tls_bundle[128]; /* TLS key, cert, bundle */
	uint8_t listen_mask;			  /* Listen interface ... (bit per interface) */
	uint16_t relay_lo, relay_hi;		  /* relay port range */
	uint32_t max_allocs;			  /* 0 = no limit */
	uint32_t max_allocs_per_user;		  /* 0 = no limit */
	uint32_t bandwidth_kbps;		  /* per allocation, each way; 0 = no limit */
	uint32_t lifetime_max;			  /* seconds */
	uint32_t max_conns, max_conns_per_addr;	  /* TCP/TLS connections; 0 = no limit */
	uint32_t handshake_timeout, idle_timeout; /* seconds; 0 = none */
	struct cfg_prefix denied[TURN_MAX_PEER_RULES], allowed[TURN_MAX_PEER_RULES];
	int n_denied, n_allowed;
	/* the IPv6 ones, in the same lists of the file (denied_peers, allowed_peers) */
	struct cfg_prefix6 denied6[TURN_MAX_PEER_RULES], allowed6[TURN_MAX_PEER_RULES];
	int n_denied6, n_allowed6;
};

/* Which components this appliance runs (DESIGN: roles). Config file only: `role = "both"`. */
enum edge_role { EDGE_ROLE_BOTH, EDGE_ROLE_EDGE, EDGE_ROLE_CORE };

#define WEB_MAX_LISTEN 4
#define WEB_MAX_ADMINS 16

/* "<if>:<port>", as webbridge3 writes its listeners. */
struct cfg_listen {
	uint8_t ifi; /* index into edge_cfg.ifs */
	uint16_t port;
};

/* The guide's `webbridge3` component (edge): status page fields in comments. */
struct cfg_webbridge3 {
	bool enabled;				 /* Enabled */
	struct cfg_listen https[WEB_MAX_LISTEN]; /* HTTPS listening ports and interfaces */
	int n_https;
	char https_key[128], https_cert[128];  /* HTTPS Key file, Full chain certificate */
	char frame_ancestors[256];	       /* HTTPS Frame-Ancestors ("" = none) */
	bool http_redirect;		       /* HTTP redirect (port 80 -> HTTPS) */
	struct cfg_listen c2w[WEB_MAX_LISTEN]; /* C2W listening ports and interfaces */
	int n_c2w;
	char c2w_key[128], c2w_cert[128]; /* C2W Key file, Full chain certificate */
	char c2w_trust[128];		  /* C2W Trust bundle */
	char meetingapps_host[128];	  /* Meetingapps address ("" = none) */
	uint16_t meetingapps_port;	  /* Meetingapps port (0 = none) */
	char meetingapps_secret[128];
	bool audio_priority;  /* Audio priority flag (default Enabled) */
	char options[128];    /* Beta options ("" = none) */
	char webapp_dir[256]; /* the web app's files ("" = built-in path) */
};

/* The guide's `callbridge` component (core). */
struct cfg_callbridge {
	bool enabled;
	uint8_t listen_mask;		       /* Listening interfaces (bit per interface) */
	int prefer_if;			       /* Preferred interface (-1 = none) */
	char key[128], cert[128], bundle[128]; /* Key file, Certificate file */
	char address[128];		       /* Address ("" = none) */
	char trust_c2w[128];		       /* C2W trusted certs */
	char trust_cluster[128];	       /* Callbridge cluster trusted certs */
	char trust_branding[128];	       /* Callbridge trust branding certs */
	char ucm_trust[128];		       /* UCM trusted certs */
	bool ucm_verify;		       /* UCM verification mode */
	char imps_trust[128];		       /* IMPS trusted certs */
	bool imps_verify;		       /* IMPS verification mode */
	int jwt_expiry_hours;		       /* WC3 JWT Expiry in hours, 1..24 */
	char db_path[256];		       /* SQLite database (spaces, webBridges, ...) */
	/* Media ports: one UDP port per media interface carries every leg (DESIGN: the media
	 * plane); guests' TURN allocations may reach these and nothing else. */
	struct cfg_listen media[WEB_MAX_LISTEN];
	int n_media;
	bool simulcast; /* guests send video in up to 3 layers, each receiver gets one (default
			 * off; the web app learns it from its JWT before its first offer) */
};

/* The guide's `webadmin` component (core): web admin pages and the REST API. */
struct cfg_webadmin {
	bool enabled;			       /* Enabled */
	int ifi;			       /* TLS listening interface (-1 = none) */
	uint16_t port;			       /* TLS listening port */
	char key[128], cert[128], bundle[128]; /* Key file, Certificate file */
	bool http_redirect;		       /* HTTP redirect */
};

/* The appliance's administrators (MMP `user ...`): HTTP Basic for the REST API and the
 * web admin pages. Only a crypt(3) hash of the password is kept. */
struct cfg_admin {
	char name[32];
	char role[16];	/* "admin", "api", ... */
	char hash[128]; /* crypt(3), e.g. "$y$..." */
};

/* Prometheus's endpoint (`metrics listen|allow|certs|enable|disable`): GET /metrics. */
#define CFG_METRICS_MAX_ALLOW 8
struct cfg_metrics {
	bool enabled;
	int ifi;       /* the interface whose first address it listens on; -1: none */
	uint16_t port; /* 9100 by default, node exporter's */
	struct cfg_prefix allow[CFG_METRICS_MAX_ALLOW]; /* scrapers; none: anyone */
	int n_allow;
	char key[128], cert[128]; /* both set: HTTPS (names in cert_dir) */
};

/* Remote syslog (`syslog server add|del`, `syslog enable|disable`), RFC 5424. */
#define CFG_SYSLOG_MAX_SERVERS 4
enum cfg_syslog_transport { CFG_SYSLOG_UDP, CFG_SYSLOG_TCP, CFG_SYSLOG_TLS };
struct cfg_syslog_server {
	char host[128]; /* a name or an address literal */
	uint16_t port;
	enum cfg_syslog_transport transport;
};
struct cfg_syslog {
	bool enabled;
	struct cfg_syslog_server servers[CFG_SYSLOG_MAX_SERVERS];
	int n_servers;
	char ca[128]; /* TLS servers are checked against this bundle (cert_dir) */
};

struct edge_cfg {
	/* EAL */
	char cores[64]; /* lcore list for -l, first is the control plane */
	int memory_mb;
	bool hugepages;	     /* false: --no-huge */
	char eal_extra[256]; /* extra EAL words, space separated */
	/* data plane */
	int burst;
	int idle_sleep_us; /* longest back-off sleep of an idle worker */
	int arp_timeout_s;
	/* management */
	char ctl_socket[108];
	char ctl_group[32]; /* mgmt.socket_group: may use edgectl too ("" = root only) */
	enum log_target log_target;
	char log_file[256];
	int log_level;	    /* syslog level: LOG_ERR .. LOG_DEBUG */
	char cert_dir[256]; /* where key and certificate files are looked up */
	struct cfg_metrics metrics;
	struct cfg_syslog syslog;
	/* interfaces */
	struct cfg_iface ifs[EDGE_MAX_IFACES];
	int n_ifs;
	int default_if; /* index into ifs carrying the default route; -1 = none */
	/* components */
	struct cfg_turn turn;
	enum edge_role role;
	struct cfg_webbridge3 wb3;
	struct cfg_callbridge cb;
	struct cfg_webadmin webadmin;
	struct cfg_admin admins[WEB_MAX_ADMINS];
	int n_admins;
};

void cfg_defaults(struct edge_cfg *cfg);

/* The file's format, its top-level `version = N;`: a file without one is version 1 (written
 * before the field). cfg_load upgrades an older one in memory (config.c's cfg_steps) and
 * refuses a newer one; cfg_save writes this build's. */
#define EDGE_CFG_FORMAT_VERSION 1

/* Reads @path (libconfig syntax). On error returns -EINVAL and writes "file:line: why". */
int cfg_load(const char *path, struct edge_cfg *cfg, char *err, size_t errlen);

/* Writes @cfg to @path atomically (temp file + rename), `version` first. */
int cfg_save(const char *path, const struct edge_cfg *cfg, char *err, size_t errlen);

int cfg_iface_find(const struct edge_cfg *cfg, const char *name);

/* Edits used by the CLI; each validates first and changes nothing on error. */
int cfg_ipv4_add(struct edge_cfg *cfg, int ifi, uint32_t addr, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen);
int cfg_ipv4_del(struct edge_cfg *cfg, int ifi, uint32_t addr, char *err, size_t errlen);
/* A route: net/prefix with no host bits set, via a gateway inside one of the interface's
 * subnets (not one of its addresses), no net/prefix twice on one interface. */
int cfg_route_add(struct edge_cfg *cfg, int ifi, uint32_t net, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen);
int cfg_route_del(struct edge_cfg *cfg, int ifi, uint32_t net, uint8_t prefix, char *err,
	size_t errlen);
/* The next hop towards ip out of interface ifc: ip itself on a connected subnet, else the
 * gateway of the longest static route that covers it, else the interface's gateway; 0 when
 * there is none. */
uint32_t cfg_next_hop(const struct cfg_iface *ifc, uint32_t ip);

/* IPv6 (issue 18). Each edit validates first and changes nothing on error; messages start
 * "ipv6: " or "ipv6 route: " and name the address. An address is global unicast: not ::,
 * ::1, multicast (ff00::/8), IPv4-mapped (::ffff:0:0/96) nor link-local (fe80::/10: the
 * interface's own is derived from its MAC), prefix 1..128, on no other interface; its
 * gateway (@gw NULL or all zero: none) lies inside its prefix or is link-local. */
int cfg_ipv6_add(struct edge_cfg *cfg, int ifi, const uint8_t addr[16], uint8_t prefix,
	const uint8_t *gw, char *err, size_t errlen);
/* Refused while a route's gateway is reached through this address only. */
int cfg_ipv6_del(struct edge_cfg *cfg, int ifi, const uint8_t addr[16], char *err, size_t errlen);
/* A route: net/prefix (0..128, no host bits set) via a gateway inside one of the interface's
 * prefixes (not one of its addresses) or link-local; the interface has an IPv6 address; no
 * net/prefix twice on the appliance, none inside a connected prefix. */
int cfg_route6_add(struct edge_cfg *cfg, int ifi, const uint8_t net[16], uint8_t prefix,
	const uint8_t gw[16], char *err, size_t errlen);
int cfg_route6_del(struct edge_cfg *cfg, int ifi, const uint8_t net[16], uint8_t prefix, char *err,
	size_t errlen);
/* Parses an IPv6 address (inet_pton's text, no zone, no prefix): 0 or -1. */
int cfg_parse_ipv6(const char *s, uint8_t out[16]);
/* Parses "<address>/<n>": 0, -EINVAL (not that shape) or -ERANGE (n not 0..128). */
int cfg_parse_prefix6(const char *s, uint8_t addr[16], uint8_t *prefix);
/* RFC 5952 text (inet_ntop): lower case, the longest run of zero fields as "::". */
const char *cfg_ipv6_str(const uint8_t a[16], char buf[46]);
/* The link-local address the data plane answers for: fe80::/64 with the modified EUI-64 of
 * @mac (U/L bit of mac[0] flipped, ff:fe in the middle): 52:54:00:12:34:56 gives
 * fe80::5054:ff:fe12:3456. */
void cfg_ipv6_link_local(const uint8_t mac[6], uint8_t out[16]);

/* Parses "a.b.c.d" (strict: four decimal octets). Returns 0 or -EINVAL. */
/* Whether an interface's port is a PCI address ("0000:03:00.0" or "03:00.0", optionally
 * followed by ",devargs"), not a virtual device's name. */
static inline bool cfg_port_is_pci(const char *spec)
{
	int colons = 0;

	for (const char *p = spec; *p && *p != ','; p++) {
		if (*p == ':')
			colons++;
		else if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				 (*p >= 'A' && *p <= 'F') || *p == '.'))
			return false;
	}
	return colons >= 1;
}

int cfg_parse_ipv4(const char *s, uint32_t *addr);
/* Parses "a.b.c.d/n". */
int cfg_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix);

const char *cfg_ipv4_str(uint32_t addr, char buf[16]);

/* The callbridge media port (index into cfg->cb.media) that lies inside TURN's relay ports
 * on the relay interface, where the relay would take its packets: -1 if none. */
int cfg_media_in_relay(const struct edge_cfg *cfg);
/* The interface whose first address relays TURN: the first listen interface. -1 if none. */
int cfg_turn_relay_if(const struct cfg_turn *t);

/* The component other than TURN that listens on TCP @port of interface @ifi ("webadmin",
 * "webbridge3 HTTPS", ...), or NULL: the listeners cli_web.c's port check knows. */
const char *cfg_tcp_port_owner(const struct edge_cfg *cfg, int ifi, uint16_t port);
/* The ports below 1024 that browsers use for TURN (WebRTC's TURN port rule): 53, 80, 443. */
bool cfg_turn_browser_ok(uint16_t port);
/* The browser port's interfaces for TCP and TLS: the TURN listen interfaces where no other
 * component holds that TCP port (cfg_tcp_port_owner). 0 when the port is none or is
 * TURN's own UDP/TCP port already. */
uint8_t cfg_turn_browser_tcp_mask(const struct edge_cfg *cfg);

/* TURN's peer policy for operators' allocations (guests reach only media targets, see
 * turn_server.h). First match wins:
 *   1. never: 0/8, loopback, multicast, 255.255.255.255, the network and broadcast address
 *      of every connected subnet, and this appliance's own addresses (interfaces', public
 *      IP), save the relay address with a port of the relay range (a hairpin to another
 *      allocation, DESIGN); no allow range opens these (coturn's CVE-2020-26262 class);
 *   2. the operator's deny ranges (`turn peers deny`, denied_peers);
 *   3. the operator's allow ranges (`turn peers allow`, allowed_peers);
 *   4. refused by default: cfg_turn_special[] (RFC 1918, CGN, link-local, benchmarking,
 *      documentation, reserved), and the subnets and routes of every interface that does
 *      not hold the default route (the networks behind the edge);
 *   5. relayed. @port is the peer's (network order), 0 when unknown. */
enum cfg_peer_verdict {
	CFG_PEER_OK,
	CFG_PEER_NEVER,
	CFG_PEER_DENIED,
	CFG_PEER_ALLOWED,
	CFG_PEER_SPECIAL,
	CFG_PEER_INTERNAL,
};
enum cfg_peer_verdict cfg_turn_peer_verdict(const struct edge_cfg *cfg, uint32_t ip, uint16_t port);
static inline bool cfg_peer_refused(enum cfg_peer_verdict v)
{
	return v != CFG_PEER_OK && v != CFG_PEER_ALLOWED;
}
extern const struct cfg_prefix cfg_turn_special[];
extern const int cfg_turn_n_special;
bool cfg_prefix_has(const struct cfg_prefix *p, uint32_t ip);

/* The IPv6 twin (issue 18), in the same order, with the same verdicts. @ip and @port in
 * network order (@port 0: unknown).
 *   1. never: ::/96 (::, ::1, IPv4-compatible), IPv4-mapped ::ffff:0:0/96 (never a peer on
 *      the wire), multicast ff00::/8, link-local fe80::/10 (our own link-local addresses
 *      among them), this appliance's addresses and the subnet-router anycast address
 *      (host bits zero) of each of its prefixes up to /126, save the relay interface's
 *      first address with a port of the relay range (a hairpin); and a NAT64 (64:ff9b::/96,
 *      RFC 6052) or 6to4 (2002::/16, RFC 3056) address whose embedded IPv4 address is
 *      never relayed to (cfg_turn_peer_verdict with port 0: no hairpin through them);
 *   2. the operator's IPv6 deny ranges (denied6);
 *   3. the operator's IPv6 allow ranges (allowed6);
 *   then for a NAT64 or 6to4 address, the IPv4 verdict of the embedded address;
 *   4. refused by default: cfg_turn_special6[] (unique-local, documentation, ...), and the
 *      prefixes and routes of every interface that does not hold the default route;
 *   5. relayed. */
enum cfg_peer_verdict cfg_turn_peer6_verdict(const struct edge_cfg *cfg, const uint8_t ip[16],
	uint16_t port);
extern const struct cfg_prefix6 cfg_turn_special6[];
extern const int cfg_turn_n_special6;
bool cfg_prefix6_has(const struct cfg_prefix6 *p, const uint8_t ip[16]);
/* @a/@len with the host bits cleared. */
struct cfg_prefix6 cfg_prefix6_of(const uint8_t a[16], uint8_t len);
/* A word of `turn peers` and of denied_peers/allowed_peers: "a.b.c.d/n" (host bits
 * cleared) into *@p4 and returns 4, or an IPv6 prefix (no host bits set) into *@p6 and
 * returns 6; else -EINVAL with why in @why ("expected a.b.c.d/n or an IPv6 prefix", ...). */
int cfg_parse_peer_prefix(const char *s, struct cfg_prefix *p4, struct cfg_prefix6 *p6, char *why,
	size_t whylen);

/* "<if>:<port>" (webbridge3's listeners): 0, -EINVAL (not that shape), -ENOENT (no such
 * interface) or -ERANGE (port not 1..65535). */
int cfg_parse_listen(const struct edge_cfg *cfg, const char *s, struct cfg_listen *l);
const char *cfg_listen_str(const struct edge_cfg *cfg, const struct cfg_listen *l, char *buf,
	size_t len);
/* "udp", "tcp" or "tls"; and back (-EINVAL). */
const char *cfg_syslog_transport_name(enum cfg_syslog_transport t);
int cfg_syslog_transport_parse(const char *s, enum cfg_syslog_transport *t);
/* "<host>[:<port>]" (an IPv6 literal in brackets when a port follows) with the transport's
 * default port (514 for UDP and TCP, 6514 for TLS): 0 or -EINVAL with @err naming the word. */
int cfg_syslog_server_parse(const char *hostport, enum cfg_syslog_transport t,
	struct cfg_syslog_server *out, char *err, size_t errlen);

/* "both", "edge" or "core". */
const char *cfg_role_name(enum edge_role role);

/* Administrators: a name is [a-z_][a-z0-9_.-]{0,30}; a role admin, api, audit or appadmin. */
bool cfg_admin_name_ok(const char *name);
bool cfg_admin_role_ok(const char *role);
/* The index of administrator @name in cfg->admins, or -ENOENT. */
int cfg_admin_find(const struct edge_cfg *cfg, const char *name);
/* A crypt(3) yescrypt hash ("$y$...") of @password with a fresh salt: 0 or -errno. */
int cfg_admin_hash(const char *password, char *hash, size_t len);
/* 0 if @user is an administrator and @password is theirs, -EACCES otherwise (or -ENOMEM).
 * The REST API's HTTP Basic authentication. Takes a yescrypt's time whether or not the
 * user exists. */
int cfg_admin_check(const struct edge_cfg *cfg, const char *user, const char *password);

#endif
