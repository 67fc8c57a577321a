/* rtnetlink for the TAP mirrors: the kernel side of each interface gets the same addresses
 * and the default route, so the control plane's ordinary sockets work through it. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

#include "port.h"

/* Sends one request and waits for its ACK. */
static int nl_talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int seq, portid;
	int ret;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq = (unsigned int)time(NULL);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_cb_run(buf, ret, seq, portid, NULL, NULL);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

/* A hairpinned datagram (a TURN client's for our own media port) reaches the mirror from
 * one of our own addresses (the relay's): the kernel drops such a source unless the
 * interface accepts local sources. Best effort: logged by the caller's tests, not fatal. */
static void accept_local(int ifindex)
{
	char name[IF_NAMESIZE], path[128];
	FILE *f;

	if (!if_indextoname((unsigned int)ifindex, name))
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", name);
	if ((f = fopen(path, "w"))) {
		fputs("1\n", f);
		fclose(f);
	}
}

int tap_link_up(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	accept_local(ifindex);
	return nl_talk(nlh);
}

/* RTM_NEWADDR / RTM_DELADDR of @addr (4 or 16 bytes, by @family). IPv6 addresses skip the
 * kernel's duplicate address detection: the data plane runs it (and answers for them). */
static int addr_talk(int ifindex, bool add, int family, const void *addr, uint8_t prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const size_t alen = family == AF_INET ? 4 : 16;
	const uint8_t *a = addr;
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = family == AF_INET6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80 ?
		RT_SCOPE_LINK :
		RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	ret = nl_talk(nlh);
	return (!add && ret == -EADDRNOTAVAIL) ? 0 : ret;
}

int tap_addr(int ifindex, bool add, uint32_t addr, uint8_t prefix)
{
	return addr_talk(ifindex, add, AF_INET, &addr, prefix);
}

int tap_addr6(int ifindex, bool add, const uint8_t addr[16], uint8_t prefix)
{
	return addr_talk(ifindex, add, AF_INET6, addr, prefix);
}

/* RTM_NEWROUTE / RTM_DELROUTE to @dst/@dst_len via @gateway (4 or 16 bytes, by @family). */
static int route_talk(int ifindex, bool add, int family, const void *dst, uint8_t dst_len,
	const void *gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const size_t alen = family == AF_INET ? 4 : 16;
	struct rtmsg *rtm;
	int ret;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (dst_len)
		mnl_attr_put(nlh, RTA_DST, alen, dst);
	mnl_attr_put(nlh, RTA_GATEWAY, alen, gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	ret = nl_talk(nlh);
	return (!add && ret == -ESRCH) ? 0 : ret;
}

int tap_route(int ifindex, bool add, uint32_t dst, uint8_t dst_len, uint32_t gateway)
{
	return route_talk(ifindex, add, AF_INET, &dst, dst_len, &gateway);
}

int tap_route6(int ifindex, bool add, const uint8_t dst[16], uint8_t dst_len,
	const uint8_t gateway[16])
{
	return route_talk(ifindex, add, AF_INET6, dst, dst_len, gateway);
}

/* IPv6 on the mirror, on when its interface has IPv6 addresses: as configured, never
 * autoconfigured (no router solicitations, no SLAAC, no address of its own making) and
 * with no duplicate address detection of its own (the data plane's covers the addresses,
 * and answers for them). Best effort: a setting that cannot be written shows as a missing
 * address later. */
int tap_ipv6(const char *name, bool on)
{
	static const char *const off[] = { "accept_ra=0", "autoconf=0", "accept_dad=0",
		"dad_transmits=0", "router_solicitations=0", "addr_gen_mode=1" };
	char path[160];
	int ret = 0;
	FILE *f;

	for (size_t i = 0; on && i < sizeof(off) / sizeof(off[0]); i++) {
		const char *eq = strchr(off[i], '=');

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%.*s", name,
			(int)(eq - off[i]), off[i]);
		if (!(f = fopen(path, "w"))) {
			ret = -errno;
			continue;
		}
		fputs(eq + 1, f);
		if (fclose(f) != 0)
			ret = -errno;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	if (!(f = fopen(path, "w")))
		return -errno;
	fputs(on ? "0" : "1", f);
	if (fclose(f) != 0)
		return -errno;
	return ret;
}

/* ---- the relay range, kept from the kernel's ephemeral ports ---- */

static struct {
	bool saved; /* orig holds what the file said before our first write */
	char orig[4096];
} rsv;

static int write_reserved(const char *v)
{
	FILE *f = fopen(TAP_RESERVED_PORTS, "w");
	int e = 0;

	if (!f)
		return -errno;
	/* an empty list clears the file: the kernel wants a newline then */
	if (fprintf(f, "%s\n", v) < 0)
		e = -EIO;
	if (fclose(f) != 0 && !e)
		e = -errno;
	return e;
}

int tap_reserve_ports(uint16_t lo, uint16_t hi)
{
	char v[sizeof(rsv.orig) + 16];

	if (!lo) {
		if (!rsv.saved)
			return 0;
		rsv.saved = false;
		return write_reserved(rsv.orig);
	}
	if (!rsv.saved) {
		FILE *f = fopen(TAP_RESERVED_PORTS, "r");

		if (!f)
			return -errno;
		if (!fgets(rsv.orig, sizeof(rsv.orig), f))
			rsv.orig[0] = '\0';
		fclose(f);
		rsv.orig[strcspn(rsv.orig, "\n")] = '\0';
		rsv.saved = true;
	}
	snprintf(v, sizeof(v), "%s%s%u-%u", rsv.orig, rsv.orig[0] ? "," : "", lo, hi);
	return write_reserved(v);
}
