/* The control loop: readable pipes and eventfds have their callbacks run once each; fds
 * deleted from inside a callback (the one served or another) are not served again;
 * registering an fd again replaces it; the limit holds; timers tick at their period; the
 * block hooks surround the poll; a pending fd keeps the loop from blocking. Timing checks
 * are loose (the machine is shared): nothing tighter than 50 ms. */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "unit.h"

struct probe {
	int calls;
	int fd;
	short revents;
	int hooks_after_at_call; /* the after hook's count when the callback ran */
	struct evloop *loop;
	int del[3]; /* fds this callback deletes, -1: none */
	int add;    /* an fd this callback registers, -1: none */
	struct probe *add_probe;
};

static int before_n, after_n;

static void on_fd(void *ctx, int fd, short revents)
{
	struct probe *p = ctx;

	p->calls++;
	p->fd = fd;
	p->revents = revents;
	p->hooks_after_at_call = after_n;
	for (int i = 0; i < 3; i++)
		if (p->del[i] >= 0)
			CU_ASSERT_EQUAL(evloop_del_fd(p->loop, p->del[i]), 0);
	if (p->add >= 0)
		CU_ASSERT_EQUAL(evloop_add_fd(p->loop, p->add, POLLIN, on_fd, p->add_probe), 0);
}

static struct probe probe(struct evloop *loop)
{
	return (struct probe){ .loop = loop, .fd = -1, .del = { -1, -1, -1 }, .add = -1 };
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A readable eventfd (every dup of it is readable too). */
static int ready_fd(void)
{
	int fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);

	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

static void test_readable(void)
{
	struct evloop *loop = evloop_new();
	struct probe a = probe(loop), b = probe(loop), c = probe(loop), idle = probe(loop);
	int pa[2], pb[2], pidle[2], efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1;
	char buf[8];

	CU_ASSERT_FATAL(loop != NULL && efd >= 0);
	CU_ASSERT_FATAL(pipe(pa) == 0 && pipe(pb) == 0 && pipe(pidle) == 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, pa[0], POLLIN, on_fd, &a), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, pidle[0], POLLIN, on_fd, &idle), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, pb[0], POLLIN, on_fd, &b), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, efd, POLLIN, on_fd, &c), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 0); /* nothing written yet */
	CU_ASSERT_EQUAL(write(pa[1], "x", 1), 1);
	CU_ASSERT_EQUAL(write(pb[1], "y", 1), 1);
	CU_ASSERT_EQUAL(write(efd, &one, 8), 8);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 1000000), 3);
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(b.calls, 1);
	CU_ASSERT_EQUAL(c.calls, 1);
	CU_ASSERT_EQUAL(idle.calls, 0);
	CU_ASSERT_EQUAL(a.fd, pa[0]);
	CU_ASSERT_EQUAL(c.fd, efd);
	CU_ASSERT(a.revents & POLLIN);
	/* drained: nothing more to serve */
	CU_ASSERT_EQUAL(read(pa[0], buf, sizeof(buf)), 1);
	CU_ASSERT_EQUAL(read(pb[0], buf, sizeof(buf)), 1);
	CU_ASSERT_EQUAL(read(efd, buf, 8), 8);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 0);
	CU_ASSERT_EQUAL(a.calls + b.calls + c.calls + idle.calls, 3);
	/* a hang-up is served even though only POLLIN was asked for */
	close(pidle[1]);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1);
	CU_ASSERT(idle.revents & POLLHUP);
	evloop_free(loop);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]), close(pidle[0]), close(efd);
}

static void test_delete_inside(void)
{
	struct evloop *loop = evloop_new();
	struct probe x = probe(loop), y = probe(loop), z = probe(loop), n = probe(loop);
	int fx = ready_fd(), fy = ready_fd(), fz = ready_fd(), fn = ready_fd();

	CU_ASSERT_EQUAL(evloop_add_fd(loop, fx, POLLIN, on_fd, &x), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fy, POLLIN, on_fd, &y), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fz, POLLIN, on_fd, &z), 0);
	/* y deletes itself, x (served before it) and z (ready, not served yet), and registers n:
	 * n was not part of this poll, so it waits for the next pass */
	y.del[0] = fy;
	y.del[1] = fx;
	y.del[2] = fz;
	y.add = fn;
	y.add_probe = &n;
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 2);
	CU_ASSERT_EQUAL(x.calls, 1);
	CU_ASSERT_EQUAL(y.calls, 1);
	CU_ASSERT_EQUAL(z.calls, 0);
	CU_ASSERT_EQUAL(n.calls, 0);
	/* all four are still readable: only n is registered now */
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1);
	CU_ASSERT_EQUAL(n.calls, 1);
	CU_ASSERT_EQUAL(x.calls + y.calls + z.calls, 2);
	CU_ASSERT_EQUAL(evloop_del_fd(loop, fx), -ENOENT);
	CU_ASSERT_EQUAL(evloop_del_fd(loop, fn), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 0);
	/* re-registered, z is served again */
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fz, POLLIN, on_fd, &z), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1);
	CU_ASSERT_EQUAL(z.calls, 1);
	evloop_free(loop);
	close(fx), close(fy), close(fz), close(fn);
}

static void test_replace(void)
{
	struct evloop *loop = evloop_new();
	struct probe old = probe(loop), new = probe(loop);
	int fd = ready_fd();

	CU_ASSERT_EQUAL(evloop_add_fd(loop, fd, POLLIN, on_fd, &old), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fd, POLLIN, on_fd, &new), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1); /* once, not once per registration */
	CU_ASSERT_EQUAL(old.calls, 0);
	CU_ASSERT_EQUAL(new.calls, 1);
	/* replaced with events it does not have: not served */
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fd, POLLPRI, on_fd, &old), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 0);
	CU_ASSERT_EQUAL(evloop_del_fd(loop, fd), 0);
	CU_ASSERT_EQUAL(evloop_del_fd(loop, fd), -ENOENT); /* one registration */
	CU_ASSERT_EQUAL(evloop_add_fd(loop, -1, POLLIN, on_fd, &old), -EBADF);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fd, POLLIN, NULL, &old), -EBADF);
	evloop_free(loop);
	close(fd);
}

static int served_total;

static void count_fd(void *ctx, int fd, short revents)
{
	(void)ctx, (void)fd, (void)revents;
	served_total++;
}

static void test_limit(void)
{
	struct evloop *loop = evloop_new();
	int base = ready_fd(), fds[EVLOOP_MAX_FDS + 1];

	for (int i = 0; i <= EVLOOP_MAX_FDS; i++) {
		fds[i] = dup(base);
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	for (int i = 0; i < EVLOOP_MAX_FDS; i++)
		CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[i], POLLIN, count_fd, NULL), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[EVLOOP_MAX_FDS], POLLIN, count_fd, NULL), -ENOSPC);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[7], POLLIN, count_fd, NULL), 0); /* replaced */
	served_total = 0;
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), EVLOOP_MAX_FDS);
	CU_ASSERT_EQUAL(served_total, EVLOOP_MAX_FDS);
	/* a place freed is a place taken, also before any pass closed the hole up */
	CU_ASSERT_EQUAL(evloop_del_fd(loop, fds[100]), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[EVLOOP_MAX_FDS], POLLIN, count_fd, NULL), 0);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[100], POLLIN, count_fd, NULL), -ENOSPC);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), EVLOOP_MAX_FDS);
	evloop_free(loop);
	for (int i = 0; i <= EVLOOP_MAX_FDS; i++)
		close(fds[i]);
	close(base);
}

struct ticker {
	struct evloop *loop;
	int id, fired, stop_after;
	uint64_t first_ms;
};

static void on_tick(void *ctx)
{
	struct ticker *t = ctx;

	if (!t->fired++)
		t->first_ms = now_ms();
	if (t->fired == t->stop_after)
		CU_ASSERT_EQUAL(evloop_del_timer(t->loop, t->id), 0); /* its own */
}

static void test_timers(void)
{
	struct evloop *loop = evloop_new();
	struct ticker fast = { .loop = loop }, slow = { .loop = loop },
		      once = { .loop = loop, .stop_after = 1 };
	uint64_t t0 = now_ms(), end = t0 + 1000;

	CU_ASSERT_EQUAL(evloop_add_timer(loop, 0, on_tick, &fast), -EINVAL);
	fast.id = evloop_add_timer(loop, 100, on_tick, &fast);
	slow.id = evloop_add_timer(loop, 400, on_tick, &slow);
	once.id = evloop_add_timer(loop, 100, on_tick, &once);
	CU_ASSERT(fast.id >= 0 && slow.id >= 0 && once.id >= 0);
	/* with no fd and no timeout the timers alone end each pass */
	while (now_ms() < end)
		CU_ASSERT_EQUAL(evloop_run_once(loop, -1), 0);
	CU_ASSERT(fast.fired >= 7 && fast.fired <= 11); /* 10 due in 1 s */
	CU_ASSERT(slow.fired >= 1 && slow.fired <= 3);	/* 2 due */
	CU_ASSERT_EQUAL(once.fired, 1);
	CU_ASSERT(fast.first_ms >= t0 + 95 && fast.first_ms < t0 + 400); /* one period on */
	CU_ASSERT_EQUAL(evloop_del_timer(loop, once.id), -ENOENT);
	for (int i = 0; i < EVLOOP_MAX_TIMERS - 2; i++)
		CU_ASSERT(evloop_add_timer(loop, 1000, on_tick, &once) >= 0);
	CU_ASSERT_EQUAL(evloop_add_timer(loop, 1000, on_tick, &once), -ENOSPC);
	evloop_free(loop);
}

static void on_before(void *ctx)
{
	CU_ASSERT_PTR_EQUAL(ctx, &before_n);
	CU_ASSERT_EQUAL(before_n, after_n);
	before_n++;
}

static void on_after(void *ctx)
{
	(void)ctx;
	CU_ASSERT_EQUAL(before_n, after_n + 1);
	after_n++;
}

static void test_block_hooks(void)
{
	struct evloop *loop = evloop_new();
	struct probe p = probe(loop);
	int fd = ready_fd();
	uint64_t t0;

	before_n = after_n = 0;
	evloop_set_block_hooks(loop, on_before, on_after, &before_n);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 0); /* the busy case too */
	CU_ASSERT_EQUAL(before_n, 1);
	CU_ASSERT_EQUAL(after_n, 1);
	t0 = now_ms();
	CU_ASSERT_EQUAL(evloop_run_once(loop, 200000), 0); /* 200 ms, in microseconds */
	CU_ASSERT(now_ms() - t0 >= 150 && now_ms() - t0 < 1000);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fd, POLLIN, on_fd, &p), 0);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1);
	CU_ASSERT_EQUAL(p.hooks_after_at_call, 3); /* served after the poll, not during */
	CU_ASSERT_EQUAL(before_n, 3);
	CU_ASSERT_EQUAL(after_n, 3);
	evloop_free(loop);
	close(fd);
}

static bool pending_now;

static bool is_pending(void *ctx)
{
	(void)ctx;
	return pending_now;
}

static void test_pending(void)
{
	struct evloop *loop = evloop_new();
	struct probe p = probe(loop);
	int fds[2];
	uint64_t t0;

	CU_ASSERT_FATAL(pipe(fds) == 0);
	CU_ASSERT_EQUAL(evloop_set_pending(loop, fds[0], is_pending), -ENOENT);
	CU_ASSERT_EQUAL(evloop_add_fd(loop, fds[0], POLLIN, on_fd, &p), 0);
	CU_ASSERT_EQUAL(evloop_set_pending(loop, fds[0], is_pending), 0);
	pending_now = true; /* nothing to poll, but input held: served at once */
	t0 = now_ms();
	CU_ASSERT_EQUAL(evloop_run_once(loop, 5000000), 1);
	CU_ASSERT(now_ms() - t0 < 1000);
	CU_ASSERT_EQUAL(p.calls, 1);
	CU_ASSERT(p.revents & POLLIN);
	pending_now = false;
	CU_ASSERT_EQUAL(evloop_run_once(loop, 100000), 0); /* waits 100 ms, serves nothing */
	CU_ASSERT_EQUAL(p.calls, 1);
	/* readable and pending: still one call */
	pending_now = true;
	CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
	CU_ASSERT_EQUAL(evloop_run_once(loop, 0), 1);
	CU_ASSERT_EQUAL(p.calls, 2);
	evloop_free(loop);
	close(fds[0]), close(fds[1]);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "readable fds are served once each", test_readable },
		{ "delete from inside a callback", test_delete_inside },
		{ "registering again replaces", test_replace },
		{ "at most EVLOOP_MAX_FDS fds", test_limit },
		{ "timers tick at their period", test_timers },
		{ "block hooks surround the poll", test_block_hooks },
		{ "a pending fd is served without waiting", test_pending },
		{ NULL, NULL },
	};

	return unit_run("evloop", tests);
}
