/* Remote syslog: the appliance's log lines as RFC 5424 messages to a few servers, over UDP
 * (RFC 5426), TCP (RFC 6587, octet counting) or TLS (RFC 5425). Any thread submits (edge_log's
 * hook among them): a line is formatted and queued there, and one sender thread of the
 * forwarder's own does all the network I/O. The control thread configures, reads the stats
 * and frees. Each server has a bounded queue of its own; on TCP and TLS a line leaves it only
 * once the peer's kernel has acknowledged its bytes, so a broken connection costs duplicates,
 * never a silent loss. */
#ifndef EDGE_SYSLOG_FWD_H
#define EDGE_SYSLOG_FWD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define SYSLOG_MAX_SERVERS 8
#define SYSLOG_QUEUE_LINES 1024		/* per server; beyond, the oldest line is dropped */
#define SYSLOG_QUEUE_BYTES (256 * 1024) /* per server, the same */
#define SYSLOG_MAX_LINE 2048		/* one formatted message, longer is cut */
#define SYSLOG_PORT 514			/* udp and tcp */
#define SYSLOG_TLS_PORT 6514

enum syslog_transport {
	SYSLOG_UDP,
	SYSLOG_TCP,
	SYSLOG_TLS,
};

struct syslog_server {
	char host[256]; /* an IPv4/IPv6 literal or a name (resolved when used) */
	uint16_t port;
	enum syslog_transport transport;
};

struct syslog_server_stats {
	struct syslog_server server;
	uint64_t queued; /* lines in the queue now, sent but unacknowledged among them */
	uint64_t sent;	 /* UDP: handed to the kernel; TCP/TLS: acknowledged by the peer */
	uint64_t lost;	 /* dropped from a full queue, or refused (UDP) */
	uint64_t connects;
	uint64_t connect_failures;
	char state[160]; /* "connected", "connecting" or "down: <reason>" */
};

struct syslog_fwd;

/* Starts the sender thread; NULL if it cannot. No servers until syslog_fwd_configure(). */
struct syslog_fwd *syslog_fwd_new(void);
/* Stops the sender thread after trying for at most a second to empty the queues. Unhook it
 * from the log first (edge_log_set_remote(NULL, NULL)): nothing may submit meanwhile. */
void syslog_fwd_free(struct syslog_fwd *fwd);

/* Replaces the set of servers. A server kept (same host, port and transport) keeps its queue
 * and its connection. TLS servers need @ca_file, a PEM bundle the server's certificate is
 * verified against (and its name or address against @host). 0, or -EINVAL with @err set and
 * nothing changed. */
int syslog_fwd_configure(struct syslog_fwd *fwd, const struct syslog_server *servers, int n,
	const char *ca_file, char *err, size_t errlen);

/* Formats and queues one line for every server; never waits on the network. @facility as
 * <syslog.h> has it (LOG_LOCAL0, already shifted), @severity LOG_ERR..; @tv NULL: now. */
void syslog_fwd_submit(struct syslog_fwd *fwd, int facility, int severity, const struct timeval *tv,
	const char *component, const char *msg);

/* edge_log_set_remote(syslog_fwd_log_hook, fwd) sends the appliance's log to @ctx. */
void syslog_fwd_log_hook(void *ctx, int facility, int severity, const struct timeval *tv,
	const char *component, const char *msg);

/* Fills up to @max entries, in configured order; returns how many servers there are. */
int syslog_fwd_stats(struct syslog_fwd *fwd, struct syslog_server_stats *out, int max);

const char *syslog_transport_name(enum syslog_transport t);

/* One RFC 5424 message, without framing:
 *   <PRI>1 2026-12-02T14:16:22.123456Z HOST edge PID - - component: msg
 * (UTC; @msg's bytes unchanged). Returns its length (cut to @dstlen - 1). */
size_t syslog_format(char *dst, size_t dstlen, const char *hostname, long pid, int facility,
	int severity, const struct timeval *tv, const char *component, const char *msg);

#endif
