/* What webbridge3 and the callbridge share on top of libwebsockets: answering an HTTP
 * request in one call, queues of WebSocket messages, collecting a message's fragments,
 * UUIDs, and lws's own log lines routed to ours. */
#ifndef EDGE_WEB_H
#define EDGE_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "addr_limit.h"
#include "edge_config.h"

#define WEB_UUID_LEN 37

/* A random (version 4) UUID, lowercase. */
void web_uuid(char out[WEB_UUID_LEN]);

/* A header to add to an answer: both NULL ends a list. */
struct web_hdr {
	const char *name; /* with its colon: "location:" */
	const char *value;
};

/* Writes a whole answer (status, type, @hdrs, @body) on an HTTP @wsi. Returns what the lws
 * callback must return: 0, or -1 when the connection is to close. */
int web_respond(struct lws *wsi, unsigned int status, const char *ctype, const struct web_hdr *hdrs,
	const char *body, size_t len);

/* Messages waiting for a WebSocket to be writable, each with LWS_PRE bytes of headroom. */
struct web_msg;
struct web_msgq {
	struct web_msg *head, *tail;
	size_t bytes;
};

/* Queues a copy of @data and asks for a writable callback (none when @wsi is NULL: a test).
 * -ENOBUFS when more than @max bytes would be waiting (a reader that does not read), -ENOMEM. */
int web_msgq_push(struct lws *wsi, struct web_msgq *q, const char *data, size_t len, size_t max);
/* On LWS_CALLBACK_*_WRITEABLE: writes one message, asks again if more wait. -1: close. */
int web_msgq_write(struct lws *wsi, struct web_msgq *q);
void web_msgq_clear(struct web_msgq *q);

/* @msg as compact JSON, measured: what a peer whose messages stop at @max bytes can take
 * (jansson re-encodes numbers longer than they came: 0.1 as 0.10000000000000001). Sets *out
 * (free() it) and *len; -EMSGSIZE over @max (*len says by how much: the size it would have),
 * -ENOMEM. Takes @msg. */
int web_json_dump(json_t *msg, size_t max, char **out, size_t *len);

/* A message arriving in fragments, NUL-terminated when complete. */
struct web_rx {
	char *buf;
	size_t len, cap;
	bool discard; /* it grew past its limit: the rest of it is dropped */
	bool done;    /* buf holds a whole message: the next fragment starts another */
	int err;      /* why it is discarded: -EMSGSIZE, -ENOMEM */
};

/* Adds a fragment; -EMSGSIZE past @max bytes: the buffer is emptied and the message's later
 * fragments are dropped too, until web_rx_reset(). For a body; a WebSocket's messages go
 * through web_rx_msg(), which resets at each message's end. */
int web_rx_add(struct web_rx *rx, const void *data, size_t len, size_t max);
void web_rx_reset(struct web_rx *rx);

/* One fragment of a WebSocket message; @final: its last (web_rx_final()). Returns 1 when
 * rx->buf holds the whole message (NUL-terminated, rx->len bytes, until the next call), 0
 * while more is to come, and -EMSGSIZE (or -ENOMEM) once, at the final fragment of a message
 * that grew past @max bytes: that message is dropped whole. Whatever happened, the next
 * fragment starts a new message: one message dropped never takes the next ones with it. */
int web_rx_msg(struct web_rx *rx, const void *data, size_t len, bool final, size_t max);
/* In LWS_CALLBACK_(CLIENT_)RECEIVE: whether @wsi's fragment ends its message (the frame is
 * the message's final one and nothing of it is left to come in a later callback). */
bool web_rx_final(struct lws *wsi);

/* The peer's address as text, IPv4 as a.b.c.d ("?" if unknown); of a socket, @fd. */
void web_peer(struct lws *wsi, char *buf, size_t len);

/* Where a component listens on interface @ifi: its first IPv4 address, then each IPv6 one
 * (issue 18), as text. Returns how many (0: the interface has no address). */
#define WEB_IF_ADDRS (1 + EDGE_MAX_ADDRS)
int web_if_addrs(const struct edge_cfg *cfg, int ifi, char out[WEB_IF_ADDRS][46]);
/* Sets @vi to listen on @addr alone (an address web_if_addrs gave): its family only. */
void web_vhost_addr(struct lws_context_creation_info *vi, const char *addr);
/* "https://<addr>:<port>/", an IPv6 @addr in brackets (RFC 3986 3.2.2). */
void web_https_url(char *buf, size_t len, const char *addr, unsigned int port);
void web_fd_peer(int fd, char *buf, size_t len);

/* lws's warnings and errors go to our log under @component; once per process. */
void web_lws_logging(void);

/* Ping after 20 s of silence, hang up after 45: for the guests' WebSockets. */
extern const lws_retry_bo_t web_idle_policy;
/* C2W, between appliances: a ping after 5 s of silence, hung up after 12 s. A core that dies
 * (power, SIGKILL: its TAP goes with it, so no FIN or RST ever comes) is found within 12 s,
 * and its guests are told, instead of sitting 45 s in a meeting that is gone. */
extern const lws_retry_bo_t web_link_idle_policy;

/* A plain HTTP vhost with these protocols answers everything with a 301 to the URL in its
 * vhost user data (the HTTP redirects of webbridge3 and webadmin). */
extern const struct lws_protocols web_redirect_protocols[];

/* Decodes "Basic <base64>" into @user and @pass; -EINVAL if it is not that. */
int web_basic_auth(const char *hdr, char *user, size_t ulen, char *pass, size_t plen);

/* Per-address limits (include/addr_limit.h) over web_peer()'s text: failed joins and logins,
 * so that passcodes and passwords cannot be guessed at speed, and log lines a stranger can
 * trigger. An address is keyed by its 4 bytes (IPv4) or by its /64 (IPv6: one subscriber's
 * prefix, so that a host cannot step through its own addresses); anything else by its text,
 * cut short. @tag (0..255) goes into the key, so that one table can count several kinds of
 * event. The clock is CLOCK_MONOTONIC. Each table is used from one thread. */
size_t web_addr_key(const char *peer, unsigned int tag, uint8_t key[ADDR_LIMIT_KEY_MAX]);
/* Whether @a and @b are the same address for these limits. */
bool web_addr_same(const char *a, const char *b);
uint64_t web_limit_now(void);
/* Check and count (addr_limit_take); give one back (addr_limit_refund); over the limit now. */
bool web_limit_take(struct addr_limit *l, const char *peer, unsigned int tag);
void web_limit_refund(struct addr_limit *l, const char *peer, unsigned int tag);
bool web_limit_over(const struct addr_limit *l, const char *peer, unsigned int tag);

/* A table for web_log_once: each address and tag once per @window_ms. */
#define WEB_LOG_ONCE_KEYS 1024
static inline struct addr_limit *web_log_once_new(unsigned int window_ms)
{
	return addr_limit_new(WEB_LOG_ONCE_KEYS, 1, window_ms);
}

/* True the first time @peer and @tag come in a window of @l: log then, and not again. */
static inline bool web_log_once(struct addr_limit *l, const char *peer, unsigned int tag)
{
	return l && web_limit_take(l, peer, tag);
}

/* A component's thread (webbridge3, the callbridge): one libwebsockets context, built from a
 * copy of the configuration at start and at every restart, served until stop. Other threads
 * restart and stop it; the context they may wake is published under the lock, so none of them
 * ever touches one being destroyed. */
/* A TLS listener of a web_svc, whose key and certificate are replaced while it serves (a
 * certificate renewed at 3 a.m. drops nobody): established connections keep what they
 * negotiated, new handshakes get the new pair. */
#define WEB_SVC_MAX_TLS 16
struct web_tls_listener {
	void *ssl_ctx; /* the vhost's SSL_CTX */
	int tag;       /* the component's name for which key and certificate it serves */
	char key[256], cert[256];
	unsigned long long key_id[3], cert_id[3]; /* inode, size, mtime (ns): a file renewed */
};

struct web_svc {
	const char *name;
	/* In the thread: makes the context for svc->cfg (NULL: nothing to serve, e.g. disabled),
	 * saying what it did with web_svc_say(). 0 or -errno. */
	int (*build)(struct web_svc *s, struct lws_context **ctx);
	/* In the thread: ends what build made; destroys @ctx (may be NULL). */
	void (*teardown)(struct web_svc *s, struct lws_context *ctx);
	/* The key and certificate files listener @tag serves under @cfg (full paths), or
	 * -ENOENT: none (NULL: the component reloads nothing). */
	int (*cert_paths)(const struct web_svc *s, int tag, const struct edge_cfg *cfg, char *key,
		char *cert, size_t len);
	struct edge_cfg cfg; /* the running configuration: the thread's */
	/* private */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct edge_cfg next;
	bool want_restart, restart_done, stop;
	int restart_rc;
	struct lws_context *live; /* under lock */
	bool want_reload;	  /* under lock, with reload_cfg */
	struct edge_cfg reload_cfg;
	struct web_tls_listener tls[WEB_SVC_MAX_TLS]; /* the thread's */
	int n_tls;
	char msg[1024];	     /* the last build's words, under lock */
	char building[1024]; /* the thread's, while it builds */
};

/* Starts the thread, which builds from @cfg at once. 0 or -errno. */
int web_svc_start(struct web_svc *s, const struct edge_cfg *cfg);
/* Tears down and builds again from @cfg; waits up to 10 s and writes the build's words to
 * @out (may be NULL). The build's result, or -ETIMEDOUT. */
int web_svc_restart(struct web_svc *s, const struct edge_cfg *cfg, FILE *out);
void web_svc_stop(struct web_svc *s);
/* After a configuration change (control thread; does not wait): the thread loads again the
 * key and certificate of each TLS listener whose files changed under @cfg (other names, or
 * the same files rewritten), and logs what it did. A pair that does not load or match, or a
 * key of another type than the one in use (that takes a restart), leaves the old pair. */
void web_svc_reload(struct web_svc *s, const struct edge_cfg *cfg);
/* From protocols[0]'s LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS during build()
 * (@ssl_ctx: its user argument): listener @tag serves from that SSL_CTX. */
void web_svc_tls_seen(struct web_svc *s, int tag, void *ssl_ctx);
/* Replaces @ssl_ctx's key and certificate chain with those in the files, checked first in a
 * context of their own: 0, or -EINVAL with the reason in @err (the old pair kept). */
int web_tls_load(void *ssl_ctx, const char *key, const char *cert, char *err, size_t errlen);
/* For build(): adds a line to what the restart reports; returns @rc. */
int web_svc_say(struct web_svc *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
