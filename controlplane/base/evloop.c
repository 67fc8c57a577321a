/* The control plane's event loop (include/evloop.h), after redis' ae.c: a pollfd array as
 * large as the limit with each slot's callback beside it, and a few periodic timers. A
 * deleted fd leaves a hole (fd -1, which poll skips) that the next pass closes up, so a
 * callback deleting fds never moves the slots the dispatch is walking. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "evloop.h"

struct ev_fd {
	evloop_fd_cb *cb;
	evloop_pending_cb *pending;
	void *ctx;
	short ready; /* what the pending check adds to poll's revents this pass */
};

struct ev_timer {
	evloop_timer_cb *cb; /* NULL: a free slot */
	void *ctx;
	uint64_t period_ns, due_ns;
};

struct evloop {
	struct pollfd pfd[EVLOOP_MAX_FDS]; /* handed to ppoll as it is */
	struct ev_fd fds[EVLOOP_MAX_FDS];  /* fds[i] serves pfd[i] */
	int n;				   /* slots in use, holes included */
	int live;			   /* fds registered */
	struct ev_timer timers[EVLOOP_MAX_TIMERS];
	evloop_hook *before, *after;
	void *hook_ctx;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct evloop *evloop_new(void)
{
	return calloc(1, sizeof(struct evloop));
}

void evloop_free(struct evloop *loop)
{
	free(loop);
}

/* @fd's slot, or -1; slot_of(loop, -1) finds a hole. */
static int slot_of(const struct evloop *loop, int fd)
{
	for (int i = 0; i < loop->n; i++)
		if (loop->pfd[i].fd == fd)
			return i;
	return -1;
}

int evloop_add_fd(struct evloop *loop, int fd, short events, evloop_fd_cb *cb, void *ctx)
{
	int i;

	if (fd < 0 || !cb)
		return -EBADF;
	i = slot_of(loop, fd);
	if (i >= 0) {
		loop->pfd[i].events = events;
		loop->fds[i] = (struct ev_fd){ .cb = cb, .ctx = ctx, .ready = loop->fds[i].ready };
		return 0;
	}
	if (loop->live == EVLOOP_MAX_FDS)
		return -ENOSPC;
	i = loop->n < EVLOOP_MAX_FDS ? loop->n++ : slot_of(loop, -1);
	/* revents 0: a poll this fd was not part of says nothing about it */
	loop->pfd[i] = (struct pollfd){ .fd = fd, .events = events };
	loop->fds[i] = (struct ev_fd){ .cb = cb, .ctx = ctx };
	loop->live++;
	return 0;
}

int evloop_del_fd(struct evloop *loop, int fd)
{
	int i = fd >= 0 ? slot_of(loop, fd) : -1;

	if (i < 0)
		return -ENOENT;
	loop->pfd[i] = (struct pollfd){ .fd = -1 };
	loop->fds[i] = (struct ev_fd){ 0 };
	loop->live--;
	return 0;
}

int evloop_set_pending(struct evloop *loop, int fd, evloop_pending_cb *pending)
{
	int i = fd >= 0 ? slot_of(loop, fd) : -1;

	if (i < 0)
		return -ENOENT;
	loop->fds[i].pending = pending;
	return 0;
}

int evloop_add_timer(struct evloop *loop, uint64_t period_ms, evloop_timer_cb *cb, void *ctx)
{
	if (!period_ms || !cb || period_ms > UINT64_MAX / 1000000)
		return -EINVAL;
	for (int t = 0; t < EVLOOP_MAX_TIMERS; t++)
		if (!loop->timers[t].cb) {
			uint64_t ns = period_ms * 1000000;

			loop->timers[t] = (struct ev_timer){ .cb = cb,
				.ctx = ctx,
				.period_ns = ns,
				.due_ns = now_ns() + ns };
			return t;
		}
	return -ENOSPC;
}

int evloop_del_timer(struct evloop *loop, int id)
{
	if (id < 0 || id >= EVLOOP_MAX_TIMERS || !loop->timers[id].cb)
		return -ENOENT;
	loop->timers[id] = (struct ev_timer){ 0 };
	return 0;
}

void evloop_set_block_hooks(struct evloop *loop, evloop_hook *before, evloop_hook *after, void *ctx)
{
	loop->before = before;
	loop->after = after;
	loop->hook_ctx = ctx;
}

/* Closes up the holes deleted fds left; only between passes. */
static void compact(struct evloop *loop)
{
	int k = 0;

	for (int i = 0; i < loop->n; i++)
		if (loop->pfd[i].fd >= 0) {
			loop->pfd[k] = loop->pfd[i];
			loop->fds[k++] = loop->fds[i];
		}
	loop->n = k;
}

/* How long this pass may block: @timeout_us (< 0: forever, UINT64_MAX), less if a timer is
 * due sooner, nothing if a pending check says an fd has input already. */
static uint64_t wait_ns(struct evloop *loop, long timeout_us, uint64_t now)
{
	uint64_t w = timeout_us < 0			  ? UINT64_MAX :
		(uint64_t)timeout_us >= UINT64_MAX / 1000 ? UINT64_MAX - 1 :
							    (uint64_t)timeout_us * 1000;

	for (int i = 0; i < loop->n; i++) {
		struct ev_fd *f = &loop->fds[i];

		f->ready = f->pending && f->pending(f->ctx) ? POLLIN : 0;
		if (f->ready)
			w = 0;
	}
	for (int t = 0; t < EVLOOP_MAX_TIMERS; t++) {
		const struct ev_timer *tm = &loop->timers[t];

		if (tm->cb && (tm->due_ns <= now ? 0 : tm->due_ns - now) < w)
			w = tm->due_ns <= now ? 0 : tm->due_ns - now;
	}
	return w;
}

static void run_timers(struct evloop *loop)
{
	uint64_t now = now_ns();

	for (int t = 0; t < EVLOOP_MAX_TIMERS; t++) {
		struct ev_timer *tm = &loop->timers[t];

		if (!tm->cb || tm->due_ns > now)
			continue;
		/* re-armed first, so the callback may delete its own timer */
		tm->due_ns += tm->period_ns;
		if (tm->due_ns <= now)
			tm->due_ns = now + tm->period_ns;
		tm->cb(tm->ctx);
	}
}

int evloop_run_once(struct evloop *loop, long timeout_us)
{
	uint64_t w;
	struct timespec ts;
	int n, r, e = 0, served = 0;

	compact(loop);
	w = wait_ns(loop, timeout_us, now_ns());
	ts = (struct timespec){ (time_t)(w / 1000000000u), (long)(w % 1000000000u) };
	n = loop->n;
	if (loop->before)
		loop->before(loop->hook_ctx);
	r = ppoll(loop->pfd, (nfds_t)n, w == UINT64_MAX ? NULL : &ts, NULL);
	if (r < 0)
		e = errno;
	if (loop->after)
		loop->after(loop->hook_ctx);
	if (r < 0 && e != EINTR)
		return -e;
	/* slots added meanwhile lie beyond n, or in holes with revents 0: not served this pass */
	for (int i = 0; i < n; i++) {
		short rev = (short)((r > 0 ? loop->pfd[i].revents : 0) | loop->fds[i].ready);

		loop->pfd[i].revents = 0;
		loop->fds[i].ready = 0;
		if (loop->pfd[i].fd < 0 || !rev)
			continue;
		loop->fds[i].cb(loop->fds[i].ctx, loop->pfd[i].fd, rev);
		served++;
	}
	run_timers(loop);
	return served;
}
