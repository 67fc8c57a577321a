/* The control plane's event loop, after redis' ae.h: components register their file
 * descriptors (and periodic ticks) with a callback, and the loop polls and dispatches.
 * One thread owns a loop: every call, and every callback, runs on it. The caller keeps its
 * own `while` around evloop_run_once, so it can do work between passes (edged drains the
 * punt ring there) and choose each pass's timeout. Bounded: EVLOOP_MAX_FDS descriptors and
 * EVLOOP_MAX_TIMERS timers, all storage allocated by evloop_new, none while running. */
#ifndef EDGE_EVLOOP_H
#define EDGE_EVLOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define EVLOOP_MAX_FDS 256
#define EVLOOP_MAX_TIMERS 16

struct evloop;

/* @revents: what poll(2) reported (POLLIN, POLLHUP, ...). */
typedef void evloop_fd_cb(void *ctx, int fd, short revents);
typedef void evloop_timer_cb(void *ctx);
/* True when @fd's reader holds input that no poll will announce (bytes inside OpenSSL). */
typedef bool evloop_pending_cb(void *ctx);
typedef void evloop_hook(void *ctx);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *loop);

/* Serves @fd with @cb(@ctx, fd, revents) when poll reports any of @events (or an error or
 * hang-up). Registering an @fd again replaces its events, callback and context. 0, -EBADF
 * (@fd < 0 or no @cb), -ENOSPC (EVLOOP_MAX_FDS registered). */
int evloop_add_fd(struct evloop *loop, int fd, short events, evloop_fd_cb *cb, void *ctx);
/* Forgets @fd (before its owner closes it). Safe from inside any callback, for the fd being
 * served or another: a deleted fd's callback is not called again, not even for what the
 * current poll already reported. 0 or -ENOENT. */
int evloop_del_fd(struct evloop *loop, int fd);
/* Asks @pending(@fd's ctx) before each poll; when true the pass does not block and @fd's
 * callback runs as if readable (revents includes POLLIN). NULL removes it. 0 or -ENOENT. */
int evloop_set_pending(struct evloop *loop, int fd, evloop_pending_cb *pending);

/* Calls @cb(@ctx) every @period_ms, the first time one period from now; a late pass runs it
 * once, not once per period missed. Returns the timer's id (>= 0), -EINVAL (period 0 or no
 * @cb) or -ENOSPC. */
int evloop_add_timer(struct evloop *loop, uint64_t period_ms, evloop_timer_cb *cb, void *ctx);
/* Safe from inside a callback, the timer's own included. 0 or -ENOENT. */
int evloop_del_timer(struct evloop *loop, int id);

/* @before(@ctx) just before the loop blocks in poll and @after(@ctx) just after: edged goes
 * RCU-offline there. Called around every poll, a non-blocking one included. */
void evloop_set_block_hooks(struct evloop *loop, evloop_hook *before, evloop_hook *after,
	void *ctx);

/* One pass: polls for at most @timeout_us microseconds (0: just look; < 0: until something
 * happens), less if a timer is due sooner or a pending fd has input; then runs the callbacks
 * of the ready fds, each once, and those of the due timers. Returns how many fds were
 * served, or -errno if poll failed (an interrupting signal is not a failure: 0). */
int evloop_run_once(struct evloop *loop, long timeout_us);

#endif
