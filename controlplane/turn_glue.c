/* The TURN server in the appliance: its UDP socket on the kernel mirrors (requests reach it
 * through the exception path; the data plane keeps ChannelData and Send indications), next
 * hops resolved with the data plane's neighbour table, and the `turn` status commands. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "appliance.h"
#include "edge_log.h"
#include "nbr.h"
#include "turn_tables.h"

static uint64_t env_now_ms(void *ctx)
{
	struct timespec t;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t env_unix_s(void *ctx)
{
	(void)ctx;
	return (uint64_t)time(NULL);
}

/* The next hop towards @ip out of @ifi: @ip on a connected subnet, else the gateway. */
static uint32_t next_hop(const struct cfg_iface *ifc, uint32_t ip)
{
	uint32_t gw = 0;

	for (int k = 0; k < ifc->n_addrs; k++) {
		uint32_t mask = ifc->addrs[k].prefix ? htonl(~0u << (32 - ifc->addrs[k].prefix)) : 0;

		if ((ifc->addrs[k].addr & mask) == (ip & mask))
			return ip;
		if (!gw)
			gw = ifc->addrs[k].gateway;
	}
	return gw;
}

static int env_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	struct appliance *app = ctx;
	const struct nbr_entry *n;
	uint32_t nh;

	if (ifi >= app->cfg.n_ifs || !(nh = next_hop(&app->cfg.ifs[ifi], ip)))
		return -ENETUNREACH;
	n = nbr_lookup(ifi, nh);
	if (nbr_valid(n, rte_get_timer_cycles())) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	app_arp_request(app, ifi, nh);
	return -EAGAIN;
}

static void close_socket(struct appliance *app)
{
	if (app->turn_fd >= 0)
		close(app->turn_fd);
	app->turn_fd = -1;
	app->turn_port = 0;
}

/* (Re)binds the TURN socket to the configured port on every address of the namespace. */
static int open_socket(struct appliance *app)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(app->cfg.turn.port) };
	int one = 1, fd;

	if (app->turn_fd >= 0 && app->turn_port == app->cfg.turn.port)
		return 0;
	close_socket(app);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		LOG_ERRX("turn", "cannot listen on UDP port %u: %s", app->cfg.turn.port, strerror(-e));
		return e;
	}
	app->turn_fd = fd;
	app->turn_port = app->cfg.turn.port;
	LOG_INFO_("turn", "listening on UDP port %u", app->turn_port);
	return 0;
}

int app_turn_start(struct appliance *app)
{
	struct turn_env env = { .ctx = app, .resolve = env_resolve, .now_ms = env_now_ms,
		.unix_s = env_unix_s };
	uint32_t capacity = app->cfg.turn.max_allocs ? app->cfg.turn.max_allocs : 65536;
	unsigned int lcore;
	int ret;

	app->turn_fd = -1;
	ret = turn_tables_init(capacity, (int)rte_socket_id());
	if (ret < 0) {
		LOG_ERRX("turn", "cannot allocate tables for %u allocations (raise eal.memory_mb)", capacity);
		return ret;
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
		if ((ret = turn_tables_add_lcore(lcore)) < 0)
			return ret;
	app->turn = turn_server_new(&app->cfg, &env);
	if (!app->turn)
		return -ENOMEM;
	if (app->cfg.turn.enabled)
		open_socket(app);
	return 0;
}

void app_turn_stop(struct appliance *app)
{
	close_socket(app);
	turn_server_free(app->turn);
	app->turn = NULL;
}

void app_turn_config(struct appliance *app)
{
	if (!app->turn)
		return;
	turn_server_config(app->turn, &app->cfg);
	if (app->cfg.turn.enabled)
		open_socket(app);
	else
		close_socket(app);
}

/* The interface a datagram arrived on, from its TAP's ifindex. */
static int ifi_of(const struct appliance *app, int ifindex)
{
	for (int i = 0; i < app->cfg.n_ifs; i++)
		if (app->ports[i].tap_ifindex == ifindex)
			return i;
	return -1;
}

unsigned int app_turn_input(struct appliance *app)
{
	uint8_t buf[2048], out[2048];
	unsigned int served = 0;

	while (app->turn_fd >= 0 && served < 64) {
		struct sockaddr_in src;
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &src, .msg_namelen = sizeof(src), .msg_iov = &iov,
			.msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct in_pktinfo *pi = NULL;
		ssize_t n = recvmsg(app->turn_fd, &mh, 0);
		size_t rl;
		int ifi;

		if (n < 0)
			break;
		served++;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(c);
		if (!pi || (ifi = ifi_of(app, pi->ipi_ifindex)) < 0 ||
			!(app->cfg.turn.listen_mask & (1u << ifi)))
			continue;	/* not on a TURN listen interface */
		rl = turn_server_input(app->turn, (uint8_t)ifi, src.sin_addr.s_addr, src.sin_port,
			pi->ipi_addr.s_addr, htons(app->turn_port), buf, (size_t)n, out, sizeof(out));
		if (rl) {
			/* answer from the address the request was sent to */
			struct in_pktinfo *spi;
			struct iovec oiov = { out, rl };
			struct msghdr om = { .msg_name = &src, .msg_namelen = sizeof(src), .msg_iov = &oiov,
				.msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *c = CMSG_FIRSTHDR(&om);

			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(*spi));
			spi = (struct in_pktinfo *)CMSG_DATA(c);
			memset(spi, 0, sizeof(*spi));
			spi->ipi_spec_dst = pi->ipi_addr;
			if (sendmsg(app->turn_fd, &om, 0) < 0)
				app->turn_send_errors++;
		}
	}
	return served;
}
