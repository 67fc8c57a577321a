/* The Prometheus endpoint: a small HTTP/1.1 server, plain or TLS, on a thread of its own,
 * serving GET /metrics from the counters registry (include/metrics.h) to the scrapers an
 * allow-list names.
 *
 * Threads: metrics_http_start and metrics_http_stop are called by the control thread; the
 * server's thread does all its I/O in one poll loop and touches nothing but its own state and
 * the registry, which it reads through metrics_write_prometheus. The registry's mutex is the
 * only lock the server shares with the rest of the appliance: a scrape holds it while the
 * collect callbacks run, and never stalls the control loop or the data plane otherwise.
 * metrics_http_get_stats may be called from any thread (the figures are read atomically, one
 * by one). */
#ifndef EDGE_METRICS_HTTP_H
#define EDGE_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define METRICS_HTTP_MAX_ALLOW 8      /* allow-list entries */
#define METRICS_HTTP_MAX_CONNS 32     /* open at once; beyond, the oldest idle one is closed */
#define METRICS_HTTP_MAX_HEAD 8192    /* a request head, request line to the empty line */
#define METRICS_HTTP_MAX_URI 2048     /* a request target */
#define METRICS_HTTP_MAX_REQUESTS 100 /* on one connection; the last answer says close */
#define METRICS_HTTP_HEAD_MS 10000    /* to send a whole head (TLS handshake included) */
#define METRICS_HTTP_WRITE_MS 10000   /* to take a whole answer */
#define METRICS_HTTP_IDLE_MS 120000   /* between two requests of a kept-alive connection */

struct metrics_http_cfg {
	uint32_t addr; /* IPv4, network order; 0 = any */
	uint16_t port; /* host order; 0 = an ephemeral one (metrics_http_port) */
	int n_allow;   /* 0 = everyone */
	struct {
		uint32_t net;	/* network order; host bits are ignored */
		uint8_t prefix; /* 0..32 */
	} allow[METRICS_HTTP_MAX_ALLOW];
	const char *key_file, *cert_file; /* PEM key, full chain; both NULL = plain HTTP */
};

struct metrics_http;

/* Binds (SO_REUSEADDR), loads the TLS key and certificate chain, starts the thread. NULL with
 * @err saying why: "127.0.0.1:9100: Address already in use", "/etc/edge/key.pem: ...". */
struct metrics_http *metrics_http_start(struct metrics_registry *r,
	const struct metrics_http_cfg *cfg, char *err, size_t errlen);
/* Stops the thread, closes every connection, frees @h (NULL: nothing). */
void metrics_http_stop(struct metrics_http *h);
/* The port bound, host order. */
uint16_t metrics_http_port(const struct metrics_http *h);

struct metrics_http_stats {
	uint64_t scrapes;      /* /metrics answered (GET or HEAD) */
	uint64_t refused;      /* not in the allow-list: closed at accept, unanswered */
	uint64_t bad_requests; /* answered 400, 405, 414, 431 or 505 */
	uint64_t not_found;    /* answered 404 */
	uint64_t tls_failures; /* handshakes that failed on a TLS error */
	uint64_t over_limit;   /* closed because METRICS_HTTP_MAX_CONNS were open */
	uint64_t timeouts;     /* closed for a head, or a reader, too slow */
	uint64_t bytes_out;    /* HTTP bytes written (before TLS) */
	unsigned connections_now;
};

void metrics_http_get_stats(struct metrics_http *h, struct metrics_http_stats *st);

enum metrics_http_method { METRICS_HTTP_GET, METRICS_HTTP_HEAD };

struct metrics_http_req {
	enum metrics_http_method method;
	char path[METRICS_HTTP_MAX_URI + 1]; /* the target's path: no query, NUL-terminated */
	int minor;			     /* HTTP/1.<minor> */
	bool keep_alive; /* 1.1 unless "Connection: close", 1.0 if "keep-alive" */
};

/* Parses the request head at the start of @buf (sans I/O). Returns the head's length when it
 * is all there (the empty line included; what follows is the next request), 0 when more bytes
 * are needed (never once @len reaches METRICS_HTTP_MAX_HEAD), or a negative HTTP status:
 * -400 malformed (also: a body, which we never take, or HTTP/1.1 without one Host), -405 a
 * method other than GET and HEAD, -414 a target over METRICS_HTTP_MAX_URI, -431 a head over
 * METRICS_HTTP_MAX_HEAD, -505 a version other than HTTP/1.x. An error is reported as soon as
 * the bytes show it, without waiting for the rest of the head. */
int metrics_http_parse(const char *buf, size_t len, struct metrics_http_req *req);

#endif
