/* edgeload's kernel-sockets back-end: el.h's endpoints as UDP sockets, moved in batches with
 * sendmmsg/recvmmsg and woken through one epoll, to drive coturn or any server from a host.
 *
 * Endpoint layout. Client endpoint i lives on client socket i / n_client_ips and sends from
 * address client_ip + i % n_client_ips. The engine walks its allocations in order, so a batch
 * over consecutive endpoints falls into runs of n_client_ips datagrams on one socket: one
 * sendmmsg per run. With one client address each client socket is bound to it (no cmsg at
 * all); with several, the sockets are bound to INADDR_ANY (the lab makes the addresses local
 * with an AnyIP route or interface addresses) and IP_PKTINFO picks the source address on send
 * and tells the destination address, hence the endpoint, on receive. Peer endpoint
 * n_clients + k has socket n_client_socks + k of its own, bound to peer_ip:peer_port + k.
 *
 * Receive. All sockets sit in one edge-triggered epoll. Sockets it reports go on a ready list
 * and stay there until a recvmmsg finds them drained, so a busy run costs no epoll_wait per
 * call; the list is served round robin from where the last call stopped, and epoll is asked
 * again (without waiting) after every full pass, so a newly readable socket waits at most one
 * pass. With an edge-triggered epoll a datagram that lands after the drained read raises a new
 * event, so none is stranded.
 *
 * The kernel's own receive drops (a full socket buffer, a bad checksum) are read per socket
 * with SO_MEMINFO when stats() asks, so the fast path pays nothing for them; SO_RXQ_OVFL
 * would cost a cmsg per datagram and only tells of drops when a later datagram arrives. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "el.h"

#define SOCK_EVENTS 512			  /* epoll events taken per epoll_wait */
#define SOCK_FD_SLACK 64		  /* descriptors left for the engine: epoll, output files */
#define SOCK_PEER_BUF (8 << 20)		  /* a peer socket takes a whole run's bursts */
#define SOCK_CLIENT_BUF_TOTAL (256 << 20) /* shared out among the client sockets... */
#define SOCK_CLIENT_BUF_MIN (256 << 10)	  /* ...but never less than this each */
#define SOCK_MAX_PORTS 64512		  /* ports above 1023: the most sockets one address holds */

/* Room for an IP_PKTINFO cmsg, aligned as cmsghdr must be. */
union sock_ctrl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 16];
};

struct sock_slot {
	int fd;
	uint32_t ip;   /* bound address, network order (INADDR_ANY: several) */
	uint16_t port; /* network order */
	bool pktinfo;  /* addresses chosen and told by IP_PKTINFO */
	bool ready;    /* on the ready list */
	uint32_t ep0;  /* first endpoint on this socket */
};

/* One direction's sendmmsg/recvmmsg scratch, EL_MAX_BATCH messages. */
struct sock_batch {
	struct mmsghdr msg[EL_MAX_BATCH];
	struct iovec iov[EL_MAX_BATCH];
	struct sockaddr_in addr[EL_MAX_BATCH];
	union sock_ctrl ctrl[EL_MAX_BATCH];
};

struct el_backend {
	uint32_t n_clients, n_peers, n_ips;
	uint32_t client_ip;	  /* host order, for the endpoint arithmetic */
	uint32_t n_csock, n_sock; /* client sockets; all sockets */
	struct sock_slot *sock;
	int epfd;
	bool pwait2;		/* epoll_pwait2 works (microsecond timeouts) */
	uint32_t *ready;	/* socket indexes known readable */
	uint32_t n_ready, rpos; /* how many; where the next call starts */
	bool need_poll;		/* a full pass since epoll was last asked */
	struct el_backend_stats st;
	uint8_t *buf;	   /* EL_MAX_BATCH x EL_MAX_DGRAM received payloads */
	uint32_t *tx_sock; /* per message of a send chunk: its socket */
	struct epoll_event ev[SOCK_EVENTS];
	struct sock_batch tx, rx;
};

static void sock_close(struct el_backend *b);

static const char *sock_ip(uint32_t ip_net, char *s)
{
	struct in_addr a = { .s_addr = ip_net };

	return inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

/* Enough descriptors for every socket; root may raise the hard limit as well. */
static int sock_raise_nofile(uint32_t n_sock, char *err, size_t errlen)
{
	rlim_t need = (rlim_t)n_sock + SOCK_FD_SLACK;
	struct rlimit rl, up;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "sock: getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -errno;
	}
	if (rl.rlim_cur >= need)
		return 0;
	up.rlim_cur = need;
	up.rlim_max = rl.rlim_max >= need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return 0;
	snprintf(err, errlen,
		"sock: %u sockets need %llu file descriptors, RLIMIT_NOFILE allows "
		"%llu (hard %llu): raise it (ulimit -n) or use more client addresses",
		n_sock, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		(unsigned long long)rl.rlim_max);
	return -EMFILE;
}

/* Moves this thread into netns @name (NULL: stays), keeping the current one in @saved. */
static int sock_netns_enter(const char *name, int *saved, char *err, size_t errlen)
{
	char path[256];
	int fd, ret;

	*saved = -1;
	if (name == NULL || name[0] == '\0')
		return 0;
	if (strchr(name, '/') != NULL || strlen(name) > 200) {
		snprintf(err, errlen, "sock: netns '%s': not a name under /var/run/netns", name);
		return -EINVAL;
	}
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		ret = -errno;
		snprintf(err, errlen, "sock: /proc/self/ns/net: %s", strerror(errno));
		return ret;
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "sock: netns '%s': %s", name, strerror(errno));
		close(*saved);
		*saved = -1;
		return ret;
	}
	ret = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	if (ret < 0) {
		snprintf(err, errlen, "sock: netns '%s': setns: %s", name, strerror(-ret));
		close(*saved);
		*saved = -1;
	}
	return ret;
}

/* Back to the namespace sock_netns_enter left; the sockets made meanwhile keep theirs. */
static int sock_netns_leave(int saved, char *err, size_t errlen)
{
	int ret = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET) < 0) {
		ret = -errno;
		snprintf(err, errlen, "sock: back to the original netns: %s", strerror(errno));
	}
	close(saved);
	return ret;
}

static void sock_set_buf(int fd, int force, int plain, int size)
{
	/* FORCE passes net.core.[rw]mem_max when we are root; otherwise the capped size */
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

/* Opens socket @si bound to @ip:@port (network order, port 0: the kernel's choice). */
static int sock_open_one(struct el_backend *b, uint32_t si, uint32_t ip, uint16_t port, int bufsz,
	const char *ns, char *err, size_t errlen)
{
	struct sock_slot *s = &b->sock[si];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = ip, .sin_port = port };
	socklen_t salen = sizeof(sa);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = si };
	char ipb[INET_ADDRSTRLEN], nsb[280] = "";
	const char *what;
	int one = 1, ret;

	if (ns != NULL && ns[0] != '\0')
		snprintf(nsb, sizeof(nsb), "netns '%s': ", ns);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "sock: %ssocket %u of %u: %s", nsb, si + 1, b->n_sock,
			strerror(errno));
		return ret;
	}
	sock_set_buf(s->fd, SO_RCVBUFFORCE, SO_RCVBUF, bufsz);
	sock_set_buf(s->fd, SO_SNDBUFFORCE, SO_SNDBUF, bufsz);
	what = "setsockopt(IP_PKTINFO)";
	if (s->pktinfo && setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	what = "bind";
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	what = "getsockname";
	if (getsockname(s->fd, (struct sockaddr *)&sa, &salen) < 0)
		goto fail;
	what = "epoll_ctl";
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		goto fail;
	s->ip = ip;
	s->port = sa.sin_port;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "sock: %s%s %s:%u: %s", nsb, what, sock_ip(ip, ipb), ntohs(port),
		strerror(errno));
	return ret;
}

/* Opens sockets @first .. @first + @n - 1 inside netns @ns; client sockets if @client. */
static int sock_open_group(struct el_backend *b, const struct el_net *net, uint32_t first,
	uint32_t n, bool client, const char *ns, char *err, size_t errlen)
{
	int saved, ret, bufsz = SOCK_PEER_BUF;
	uint32_t i;

	if (n == 0)
		return 0;
	if (client && SOCK_CLIENT_BUF_TOTAL / n < SOCK_PEER_BUF)
		bufsz = SOCK_CLIENT_BUF_TOTAL / n < SOCK_CLIENT_BUF_MIN ?
			SOCK_CLIENT_BUF_MIN :
			(int)(SOCK_CLIENT_BUF_TOTAL / n);
	ret = sock_netns_enter(ns, &saved, err, errlen);
	if (ret < 0)
		return ret;
	for (i = 0; i < n && ret == 0; i++) {
		struct sock_slot *s = &b->sock[first + i];
		uint32_t ip;
		uint16_t port;

		if (client) {
			s->ep0 = i * b->n_ips;
			s->pktinfo = b->n_ips > 1;
			ip = s->pktinfo ? htonl(INADDR_ANY) : net->client_ip;
			port = net->client_port ? htons((uint16_t)(net->client_port + i)) : 0;
		} else {
			s->ep0 = b->n_clients + i;
			ip = net->peer_ip;
			port = net->peer_port ? htons((uint16_t)(net->peer_port + i)) : 0;
		}
		ret = sock_open_one(b, first + i, ip, port, bufsz, ns, err, errlen);
	}
	if (sock_netns_leave(saved, err, errlen) < 0 && ret == 0)
		ret = -EIO;
	return ret;
}

static int sock_check(const struct el_net *net, uint32_t n_csock, char *err, size_t errlen)
{
	if ((uint64_t)net->n_clients + net->n_peers == 0) {
		snprintf(err, errlen, "sock: no endpoints: n_clients and n_peers are both 0");
		return -EINVAL;
	}
	if (net->n_clients > 0 && net->n_client_ips == 0) {
		snprintf(err, errlen, "sock: n_client_ips 0: need at least one client address");
		return -EINVAL;
	}
	if ((uint64_t)ntohl(net->client_ip) + net->n_client_ips > (1ULL << 32)) {
		snprintf(err, errlen, "sock: %u client addresses run past 255.255.255.255",
			net->n_client_ips);
		return -EINVAL;
	}
	if (net->client_port ? (uint64_t)net->client_port + n_csock > 65536 :
			       n_csock > SOCK_MAX_PORTS) {
		snprintf(err, errlen,
			"sock: %u clients on %u address(es) need %u ports from %u: "
			"past 65535; use more client addresses",
			net->n_clients, net->n_client_ips, n_csock, net->client_port);
		return -EINVAL;
	}
	if (net->peer_port ? (uint64_t)net->peer_port + net->n_peers > 65536 :
			     net->n_peers > SOCK_MAX_PORTS) {
		snprintf(err, errlen, "sock: %u peers from port %u: past 65535", net->n_peers,
			net->peer_port);
		return -EINVAL;
	}
	return 0;
}

/* The receive scratch points at the back-end's payload buffer once and for all. */
static void sock_rx_init(struct el_backend *b)
{
	unsigned int i;

	for (i = 0; i < EL_MAX_BATCH; i++) {
		struct msghdr *h = &b->rx.msg[i].msg_hdr;

		b->rx.iov[i].iov_base = b->buf + (size_t)i * EL_MAX_DGRAM;
		b->rx.iov[i].iov_len = EL_MAX_DGRAM;
		h->msg_name = &b->rx.addr[i];
		h->msg_iov = &b->rx.iov[i];
		h->msg_iovlen = 1;
		h->msg_control = b->rx.ctrl[i].buf;
	}
}

static int sock_open(struct el_backend **bp, const struct el_net *net, char *err, size_t errlen)
{
	struct el_backend *b;
	uint32_t n_csock = 0;
	int ret;

	*bp = NULL;
	if (net->n_clients > 0 && net->n_client_ips > 0)
		n_csock = (uint32_t)(((uint64_t)net->n_clients + net->n_client_ips - 1) /
			net->n_client_ips);
	ret = sock_check(net, n_csock, err, errlen);
	if (ret < 0)
		return ret;
	ret = sock_raise_nofile(n_csock + net->n_peers, err, errlen);
	if (ret < 0)
		return ret;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto nomem;
	b->n_clients = net->n_clients;
	b->n_peers = net->n_peers;
	b->n_ips = net->n_client_ips ? net->n_client_ips : 1;
	b->client_ip = ntohl(net->client_ip);
	b->n_csock = n_csock;
	b->n_sock = n_csock + net->n_peers;
	b->pwait2 = true;
	b->need_poll = true;
	b->epfd = -1;
	b->sock = calloc(b->n_sock, sizeof(*b->sock));
	b->ready = calloc(b->n_sock, sizeof(*b->ready));
	b->buf = malloc((size_t)EL_MAX_BATCH * EL_MAX_DGRAM);
	b->tx_sock = calloc(EL_MAX_BATCH, sizeof(*b->tx_sock));
	if (b->sock == NULL || b->ready == NULL || b->buf == NULL || b->tx_sock == NULL) {
		b->n_sock = 0;
		sock_close(b);
		goto nomem;
	}
	for (uint32_t i = 0; i < b->n_sock; i++)
		b->sock[i].fd = -1;
	sock_rx_init(b);
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "sock: epoll_create1: %s", strerror(errno));
		sock_close(b);
		return ret;
	}
	/* peers first: with both sides in one namespace, the clients' kernel-chosen ports
	 * then steer around the peers' fixed ones */
	ret = sock_open_group(b, net, n_csock, net->n_peers, false, net->peer_netns, err, errlen);
	if (ret == 0)
		ret = sock_open_group(b, net, 0, n_csock, true, net->client_netns, err, errlen);
	if (ret < 0) {
		sock_close(b);
		return ret;
	}
	*bp = b;
	return 0;
nomem:
	snprintf(err, errlen, "sock: out of memory for %u sockets", n_csock + net->n_peers);
	return -ENOMEM;
}

static void sock_local(const struct el_backend *b, uint32_t ep, uint32_t *ip, uint16_t *port)
{
	const struct sock_slot *s;

	if (ep < b->n_clients) {
		s = &b->sock[ep / b->n_ips];
		*ip = htonl(b->client_ip + ep % b->n_ips);
	} else if (ep - b->n_clients < b->n_peers) {
		s = &b->sock[b->n_csock + (ep - b->n_clients)];
		*ip = s->ip;
	} else {
		*ip = 0;
		*port = 0;
		return;
	}
	*port = s->port;
}

/* Fills message @j of the send scratch for @d; returns its socket, or UINT32_MAX. */
static inline uint32_t sock_tx_fill(struct el_backend *b, unsigned int j, const struct el_dgram *d)
{
	struct msghdr *h = &b->tx.msg[j].msg_hdr;
	uint32_t si;

	if (d->ep < b->n_clients)
		si = d->ep / b->n_ips;
	else if (d->ep - b->n_clients < b->n_peers)
		si = b->n_csock + (d->ep - b->n_clients);
	else
		return UINT32_MAX;
	b->tx.addr[j].sin_family = AF_INET;
	b->tx.addr[j].sin_addr.s_addr = d->rip;
	b->tx.addr[j].sin_port = d->rport;
	b->tx.iov[j].iov_base = d->data;
	b->tx.iov[j].iov_len = d->len;
	h->msg_name = &b->tx.addr[j];
	h->msg_namelen = sizeof(b->tx.addr[j]);
	h->msg_iov = &b->tx.iov[j];
	h->msg_iovlen = 1;
	h->msg_flags = 0;
	if (b->sock[si].pktinfo) {
		struct cmsghdr *c = &b->tx.ctrl[j].align;
		struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(*pi));
		memset(pi, 0, sizeof(*pi));
		pi->ipi_spec_dst.s_addr = htonl(b->client_ip + d->ep % b->n_ips);
		h->msg_control = c;
		h->msg_controllen = CMSG_SPACE(sizeof(*pi));
	} else {
		h->msg_control = NULL;
		h->msg_controllen = 0;
	}
	return si;
}

/* Sends messages [@j, @k) of the scratch, all on socket @si. Returns the index of the first
 * one a full queue refused, or @k. A datagram refused for its own sake (no route, bad
 * address) is dropped and counted, so that it does not hold back the rest. */
static unsigned int sock_tx_run(struct el_backend *b, uint32_t si, unsigned int j, unsigned int k)
{
	while (j < k) {
		int r = sendmmsg(b->sock[si].fd, &b->tx.msg[j], k - j, MSG_DONTWAIT);

		if (r > 0) {
			j += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			return j;
		b->st.tx_dropped++;
		j++;
	}
	return k;
}

/* Sends up to EL_MAX_BATCH datagrams; returns how many it took. */
static unsigned int sock_send_chunk(struct el_backend *b, const struct el_dgram *d, unsigned int n)
{
	unsigned int j, k, sent;

	for (j = 0; j < n; j++)
		b->tx_sock[j] = sock_tx_fill(b, j, &d[j]);
	for (j = 0; j < n; j = k) {
		uint32_t si = b->tx_sock[j];

		for (k = j + 1; k < n && b->tx_sock[k] == si; k++)
			;
		if (si == UINT32_MAX) {
			b->st.tx_dropped += k - j; /* no such endpoint: the caller's bug */
			continue;
		}
		sent = sock_tx_run(b, si, j, k);
		if (sent < k)
			return sent;
	}
	return n;
}

/* Takes what it can in order; stops at the first datagram a full socket queue refuses, and
 * counts the untaken rest in tx_dropped (the caller counts them too, as not sent). */
static unsigned int sock_send(struct el_backend *b, const struct el_dgram *d, unsigned int n)
{
	unsigned int done = 0;

	while (done < n) {
		unsigned int m = n - done < EL_MAX_BATCH ? n - done : EL_MAX_BATCH;
		unsigned int t = sock_send_chunk(b, d + done, m);

		done += t;
		if (t < m) {
			b->st.tx_dropped += n - done;
			break;
		}
	}
	return done;
}

/* Adds the sockets epoll reports to the ready list, waiting up to @timeout_us for the first. */
static void sock_poll(struct el_backend *b, unsigned int timeout_us)
{
	int n = -1, i;

	if (b->pwait2) {
		struct timespec ts = { .tv_sec = timeout_us / 1000000,
			.tv_nsec = (long)(timeout_us % 1000000) * 1000 };

		n = epoll_pwait2(b->epfd, b->ev, SOCK_EVENTS, &ts, NULL);
		if (n < 0 && errno == ENOSYS)
			b->pwait2 = false;
	}
	if (!b->pwait2)
		n = epoll_wait(b->epfd, b->ev, SOCK_EVENTS, (int)((timeout_us + 999) / 1000));
	b->need_poll = false;
	for (i = 0; i < n; i++) {
		uint32_t si = b->ev[i].data.u32;

		if (!b->sock[si].ready) {
			b->sock[si].ready = true;
			b->ready[b->n_ready++] = si;
		}
	}
}

/* The endpoint a datagram to @dst (network order) on client socket @s is for, or UINT32_MAX. */
static inline uint32_t sock_rx_ep(const struct el_backend *b, const struct sock_slot *s,
	uint32_t dst)
{
	uint32_t off = ntohl(dst) - b->client_ip, ep;

	if (off >= b->n_ips)
		return UINT32_MAX;
	ep = s->ep0 + off;
	return ep < b->n_clients ? ep : UINT32_MAX;
}

/* The endpoint a message on a several-address client socket is for, from its IP_PKTINFO;
 * UINT32_MAX when the address is unknown or the cmsg missing. */
static uint32_t sock_rx_cmsg(const struct el_backend *b, const struct sock_slot *s,
	struct msghdr *h)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return sock_rx_ep(b, s, pi.ipi_addr.s_addr);
		}
	}
	return UINT32_MAX;
}

/* One recvmmsg on socket @si into scratch slots from @*slot; fills @d from @*got. Returns what
 * recvmmsg returned (-1: nothing). */
static int sock_read_one(struct el_backend *b, uint32_t si, struct el_dgram *d, unsigned int max,
	unsigned int *got, unsigned int *slot, unsigned int want)
{
	struct sock_slot *s = &b->sock[si];
	unsigned int i, end;
	uint64_t now;
	int r;

	for (i = *slot; i < *slot + want; i++) {
		b->rx.msg[i].msg_hdr.msg_namelen = sizeof(b->rx.addr[i]);
		b->rx.msg[i].msg_hdr.msg_controllen = sizeof(b->rx.ctrl[i].buf);
	}
	r = recvmmsg(s->fd, &b->rx.msg[*slot], want, MSG_DONTWAIT, NULL);
	if (r <= 0)
		return r;
	now = el_now_ns();
	end = *slot + (unsigned int)r;
	for (i = *slot; i < end && *got < max; i++) {
		struct msghdr *h = &b->rx.msg[i].msg_hdr;
		uint32_t ep = s->ep0;

		if (s->pktinfo)
			ep = sock_rx_cmsg(b, s, h);
		if ((h->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ep == UINT32_MAX) {
			b->st.rx_dropped++;
			continue;
		}
		d[*got].ep = ep;
		d[*got].rip = b->rx.addr[i].sin_addr.s_addr;
		d[*got].rport = b->rx.addr[i].sin_port;
		d[*got].len = (uint16_t)b->rx.msg[i].msg_len;
		d[*got].rx_ns = now;
		d[*got].data = b->buf + (size_t)i * EL_MAX_DGRAM;
		(*got)++;
	}
	*slot = end;
	return r;
}

/* One pass over the ready list from where the last stopped, one recvmmsg per socket. */
static void sock_read_pass(struct el_backend *b, struct el_dgram *d, unsigned int max,
	unsigned int *got, unsigned int *slot)
{
	unsigned int tries = b->n_ready;

	while (tries-- > 0 && b->n_ready > 0 && *got < max && *slot < EL_MAX_BATCH) {
		unsigned int want = max - *got < EL_MAX_BATCH - *slot ? max - *got :
									EL_MAX_BATCH - *slot;
		uint32_t si;
		int r;

		if (b->rpos >= b->n_ready) {
			b->rpos = 0;
			b->need_poll = true;
		}
		si = b->ready[b->rpos];
		r = sock_read_one(b, si, d, max, got, slot, want);
		if (r < 0 && errno == EINTR) {
			b->rpos++;
		} else if (r < (int)want) {
			/* drained: the next datagram raises a new edge */
			b->sock[si].ready = false;
			b->ready[b->rpos] = b->ready[--b->n_ready];
		} else {
			b->rpos++;
		}
	}
	if (b->rpos >= b->n_ready) {
		b->rpos = 0;
		b->need_poll = true;
	}
}

static unsigned int sock_recv(struct el_backend *b, struct el_dgram *d, unsigned int max,
	unsigned int timeout_us)
{
	uint64_t deadline = timeout_us ? el_now_ns() + (uint64_t)timeout_us * 1000 : 0;
	unsigned int got = 0, slot = 0, wait = timeout_us;

	if (max > EL_MAX_BATCH)
		max = EL_MAX_BATCH;
	if (max == 0)
		return 0;
	for (;;) {
		if (b->n_ready == 0)
			sock_poll(b, wait);
		else if (b->need_poll)
			sock_poll(b, 0);
		sock_read_pass(b, d, max, &got, &slot);
		if (got > 0 || timeout_us == 0 || slot >= EL_MAX_BATCH)
			break;
		uint64_t now = el_now_ns();

		if (now >= deadline)
			break;
		wait = (unsigned int)((deadline - now + 999) / 1000);
	}
	return got;
}

/* One getsockopt per socket: meant for progress lines and the summary, not per batch. */
static void sock_stats(const struct el_backend *b, struct el_backend_stats *st)
{
	uint32_t mi[SK_MEMINFO_VARS], i;
	socklen_t len;

	*st = b->st;
	for (i = 0; i < b->n_sock; i++) {
		len = sizeof(mi);
		if (getsockopt(b->sock[i].fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 &&
			len > SK_MEMINFO_DROPS * sizeof(mi[0]))
			st->rx_dropped += mi[SK_MEMINFO_DROPS];
	}
}

static void sock_close(struct el_backend *b)
{
	uint32_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_sock; i++)
		if (b->sock[i].fd >= 0)
			close(b->sock[i].fd);
	if (b->epfd >= 0)
		close(b->epfd);
	free(b->sock);
	free(b->ready);
	free(b->buf);
	free(b->tx_sock);
	free(b);
}

const struct el_backend_ops el_sock_ops = {
	.name = "sock",
	.open = sock_open,
	.local = sock_local,
	.send = sock_send,
	.recv = sock_recv,
	.stats = sock_stats,
	.close = sock_close,
};
