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
	uint32_t addr;		/* network byte order */
	uint8_t prefix;		/* 0..32 */
	uint32_t gateway;	/* network byte order; 0 = none */
};

struct cfg_iface {
	char name[EDGE_IFNAME_LEN];		/* "a", "b", ... */
	char port[EDGE_PORTSPEC_LEN];		/* PCI address or vdev string */
	char tap[16];				/* kernel mirror name; "" = edge-<name> */
	struct cfg_ipv4 addrs[EDGE_MAX_ADDRS];
	int n_addrs;
	int rx_queues;				/* 0 = one per worker */
	struct fw_if_config fw;			/* the interface's firewall */
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_FILE, LOG_TARGET_SYSLOG };

#define TURN_MAX_USERS 64
#define TURN_MAX_PEER_RULES 32

struct cfg_prefix {
	uint32_t addr;		/* network byte order, host bits zero */
	uint8_t len;
};

struct cfg_turn_user {
	char name[64];
	char password[64];
};

/* The guide's `turn` component (status page fields in comments). */
struct cfg_turn {
	bool enabled;				/* Enabled */
	struct cfg_turn_user users[TURN_MAX_USERS];	/* Username, Password */
	int n_users;
	char realm[64];				/* Realm */
	bool short_term;			/* Short term credentials */
	char shared_secret[128];		/* Shared secret ("" = none) */
	uint32_t public_ip;			/* Public IP (0 = none) */
	bool high_capacity;			/* High Capacity Mode */
	uint16_t port;				/* UDP and TCP port, 3478 */
	uint16_t tls_port;			/* TLS port (0 = none) */
	char tls_key[128], tls_cert[128], tls_bundle[128];	/* TLS key, cert, bundle */
	uint8_t listen_mask;			/* Listen interface ... (bit per interface) */
	uint16_t relay_lo, relay_hi;		/* relay port range */
	uint32_t max_allocs;			/* 0 = no limit */
	uint32_t max_allocs_per_user;		/* 0 = no limit */
	uint32_t bandwidth_kbps;		/* per allocation, each way; 0 = no limit */
	uint32_t lifetime_max;			/* seconds */
	uint32_t max_conns, max_conns_per_addr;	/* TCP/TLS connections; 0 = no limit */
	uint32_t handshake_timeout, idle_timeout;	/* seconds; 0 = none */
	struct cfg_prefix denied[TURN_MAX_PEER_RULES], allowed[TURN_MAX_PEER_RULES];
	int n_denied, n_allowed;
};

struct edge_cfg {
	/* EAL */
	char cores[64];			/* lcore list for -l, first is the control plane */
	int memory_mb;
	bool hugepages;			/* false: --no-huge */
	char eal_extra[256];		/* extra EAL words, space separated */
	/* data plane */
	int burst;
	int idle_sleep_us;		/* longest back-off sleep of an idle worker */
	int arp_timeout_s;
	/* management */
	char ctl_socket[108];
	enum log_target log_target;
	char log_file[256];
	int log_level;			/* syslog level: LOG_ERR .. LOG_DEBUG */
	char cert_dir[256];		/* where key and certificate files are looked up */
	/* interfaces */
	struct cfg_iface ifs[EDGE_MAX_IFACES];
	int n_ifs;
	int default_if;			/* index into ifs carrying the default route; -1 = none */
	/* components */
	struct cfg_turn turn;
};

void cfg_defaults(struct edge_cfg *cfg);

/* Reads @path (libconfig syntax). On error returns -EINVAL and writes "file:line: why". */
int cfg_load(const char *path, struct edge_cfg *cfg, char *err, size_t errlen);

/* Writes @cfg to @path atomically (temp file + rename). */
int cfg_save(const char *path, const struct edge_cfg *cfg, char *err, size_t errlen);

int cfg_iface_find(const struct edge_cfg *cfg, const char *name);

/* Edits used by the CLI; each validates first and changes nothing on error. */
int cfg_ipv4_add(struct edge_cfg *cfg, int ifi, uint32_t addr, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen);
int cfg_ipv4_del(struct edge_cfg *cfg, int ifi, uint32_t addr, char *err, size_t errlen);

/* Parses "a.b.c.d" (strict: four decimal octets). Returns 0 or -EINVAL. */
int cfg_parse_ipv4(const char *s, uint32_t *addr);
/* Parses "a.b.c.d/n". */
int cfg_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix);

const char *cfg_ipv4_str(uint32_t addr, char buf[16]);

/* The interface whose first address relays TURN: the first listen interface. -1 if none. */
int cfg_turn_relay_if(const struct cfg_turn *t);

#endif
