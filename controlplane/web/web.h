/* What webbridge3 and the callbridge share on top of libwebsockets: answering an HTTP
 * request in one call, queues of WebSocket messages, collecting a message's fragments,
 * UUIDs, and lws's own log lines routed to ours. */
#ifndef EDGE_WEB_H
#define EDGE_WEB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <libwebsockets.h>

#include "edge_config.h"

#define WEB_UUID_LEN 37

/* A random (version 4) UUID, lowercase. */
void web_uuid(char out[WEB_UUID_LEN]);

/* A header to add to an answer: both NULL ends a list. */
struct web_hdr {
	const char *name;	/* with its colon: "location:" */
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

/* Queues a copy of @data and asks for a writable callback. -ENOBUFS when more than @max
 * bytes would be waiting (a reader that does not read), -ENOMEM. */
int web_msgq_push(struct lws *wsi, struct web_msgq *q, const char *data, size_t len, size_t max);
/* On LWS_CALLBACK_*_WRITEABLE: writes one message, asks again if more wait. -1: close. */
int web_msgq_write(struct lws *wsi, struct web_msgq *q);
void web_msgq_clear(struct web_msgq *q);

/* A message arriving in fragments, NUL-terminated when complete. */
struct web_rx {
	char *buf;
	size_t len, cap;
	bool discard;		/* it grew past its limit: the rest of it is dropped */
};

/* Adds a fragment; -EMSGSIZE past @max bytes: the buffer is emptied and the message's later
 * fragments are dropped too, until web_rx_reset() (call it at the final fragment). */
int web_rx_add(struct web_rx *rx, const void *data, size_t len, size_t max);
void web_rx_reset(struct web_rx *rx);

/* The peer's address as text, IPv4 as a.b.c.d ("?" if unknown); of a socket, @fd. */
void web_peer(struct lws *wsi, char *buf, size_t len);
void web_fd_peer(int fd, char *buf, size_t len);

/* lws's warnings and errors go to our log under @component; once per process. */
void web_lws_logging(void);

/* Ping after 20 s of silence, hang up after 45: for the guests' and C2W's WebSockets. */
extern const lws_retry_bo_t web_idle_policy;

/* A plain HTTP vhost with these protocols answers everything with a 301 to the URL in its
 * vhost user data (the HTTP redirects of webbridge3 and webadmin). */
extern const struct lws_protocols web_redirect_protocols[];

/* Decodes "Basic <base64>" into @user and @pass; -EINVAL if it is not that. */
int web_basic_auth(const char *hdr, char *user, size_t ulen, char *pass, size_t plen);


/* Failures per source address (failed joins, failed logins), so that passcodes and passwords
 * cannot be guessed at speed: past @max in @window_s seconds an address is refused until its
 * window ends. A fixed table: a newcomer takes its slot from whoever hashed there. Used from
 * one thread. */
#define WEB_FAIL_SLOTS 1024

struct web_fail {
	char peer[48];
	time_t since;
	unsigned int n;
};

struct web_fails {
	struct web_fail slot[WEB_FAIL_SLOTS];
	unsigned int max, window_s;
};

bool web_fails_blocked(struct web_fails *f, const char *peer);
/* Counts one; returns true when this one reached the limit (log it then, once). */
bool web_fails_count(struct web_fails *f, const char *peer);

/* A component's thread (webbridge3, the callbridge): one libwebsockets context, built from a
 * copy of the configuration at start and at every restart, served until stop. Other threads
 * restart and stop it; the context they may wake is published under the lock, so none of them
 * ever touches one being destroyed. */
struct web_svc {
	const char *name;
	/* In the thread: makes the context for svc->cfg (NULL: nothing to serve, e.g. disabled),
	 * saying what it did with web_svc_say(). 0 or -errno. */
	int (*build)(struct web_svc *s, struct lws_context **ctx);
	/* In the thread: ends what build made; destroys @ctx (may be NULL). */
	void (*teardown)(struct web_svc *s, struct lws_context *ctx);
	struct edge_cfg cfg;		/* the running configuration: the thread's */
	/* private */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct edge_cfg next;
	bool want_restart, restart_done, stop;
	int restart_rc;
	struct lws_context *live;	/* under lock */
	char msg[1024];			/* the last build's words, under lock */
	char building[1024];		/* the thread's, while it builds */
};

/* Starts the thread, which builds from @cfg at once. 0 or -errno. */
int web_svc_start(struct web_svc *s, const struct edge_cfg *cfg);
/* Tears down and builds again from @cfg; waits up to 10 s and writes the build's words to
 * @out (may be NULL). The build's result, or -ETIMEDOUT. */
int web_svc_restart(struct web_svc *s, const struct edge_cfg *cfg, FILE *out);
void web_svc_stop(struct web_svc *s);
/* For build(): adds a line to what the restart reports; returns @rc. */
int web_svc_say(struct web_svc *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
