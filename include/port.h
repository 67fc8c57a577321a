/* Port bring-up: each interface's DPDK port (PCI NIC or virtual device), its queues, and the
 * kernel TAP mirror that carries the exception path and holds the interface's addresses. */
#ifndef EDGE_PORT_H
#define EDGE_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "edge_config.h"

struct port_info {
	bool open;
	uint16_t port_id;
	uint16_t tap_port_id;
	bool tap_open;
	int tap_ifindex;
	char tap_name[16];
	struct rte_ether_addr mac;
	uint16_t n_rxq, n_txq;
	char driver[32];
};

/* Fills argv with EAL words for @cfg (cores, memory, every port's -a/--vdev). Returns argc
 * or -E2BIG. Strings live in @buf. */
int port_eal_args(const struct edge_cfg *cfg, const char *prog, char **argv, int max, char *buf,
	size_t buflen);

/* Configures and starts the interface's port with @n_workers rx (where it has them) and tx
 * queues, then creates and starts its TAP mirror with the same MAC. */
int port_setup(const struct cfg_iface *ifc, int ifi, unsigned int n_workers, struct rte_mempool *mp,
	struct port_info *pi, char *err, size_t errlen);
void port_teardown(struct port_info *pi);

/* Link state for status pages. */
int port_link(const struct port_info *pi, bool *up, uint32_t *speed_mbps);

/* Kernel side of the mirror (rtnetlink). Return 0 or a negative errno. */
int tap_link_up(int ifindex);
int tap_addr(int ifindex, bool add, uint32_t addr, uint8_t prefix);
/* A route to dst/dst_len (0/0: the default route) via gateway out of ifindex. */
int tap_route(int ifindex, bool add, uint32_t dst, uint8_t dst_len, uint32_t gateway);
/* The same for IPv6 (addresses added without the kernel's duplicate address detection). */
int tap_addr6(int ifindex, bool add, const uint8_t addr[16], uint8_t prefix);
int tap_route6(int ifindex, bool add, const uint8_t dst[16], uint8_t dst_len,
	const uint8_t gateway[16]);
/* IPv6 on the mirror @name on or off: on, it is configured only (no router solicitation,
 * SLAAC, link-local of its own, or duplicate address detection). 0 or -errno. */
int tap_ipv6(const char *name, bool on);

/* Keeps the kernel's ephemeral ports (this namespace's, where the TAP mirrors are) out of
 * the TURN relay range: writes ip_local_reserved_ports as it was plus lo-hi. The relay
 * owns the range in the data plane, so a reply to a kernel socket on a port in it would
 * be dropped. lo = 0 puts the file back as it was before the first call. 0 or -errno. */
int tap_reserve_ports(uint16_t lo, uint16_t hi);
#define TAP_RESERVED_PORTS "/proc/sys/net/ipv4/ip_local_reserved_ports"

#endif
