/* Control-socket server, run inside the control plane's event loop (no thread of its own):
 * accepts edgectl connections, reads command lines, answers each through the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "edge_log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* Binds @fd at @path as root:@gid with @mode: see ctl.h. 0 or -errno. */
static int bind_private(int fd, const char *path, long gid, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path) - 2]; /* room for "/s" */
	const char *slash = strrchr(path, '/');
	int n, e = 0;

	n = slash ? snprintf(dir, sizeof(dir), "%.*s/.ctlXXXXXX", (int)(slash - path), path) :
		    snprintf(dir, sizeof(dir), ".ctlXXXXXX");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (!mkdtemp(dir)) /* 0700: nobody else can reach what is bound inside */
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		chown(sa.sun_path, (uid_t)-1, gid >= 0 ? (gid_t)gid : (gid_t)-1) < 0 ||
		chmod(sa.sun_path, mode) < 0 || rename(sa.sun_path, path) < 0)
		e = -errno;
	if (e)
		unlink(sa.sun_path);
	rmdir(dir);
	return e;
}

static void on_accept(void *ctx, int lfd, short revents);

int ctl_open(struct ctl_server *s, const char *path, struct cli *cli, struct evloop *loop)
{
	const char *group = cli && cli->cfg ? cli->cfg->ctl_group : "";
	int fd, e;

	memset(s, 0, sizeof(*s));
	s->cli = cli;
	s->loop = loop;
	s->gid = -1;
	s->lfd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	if (group[0]) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			LOG_ERRX("mgmt", "mgmt.socket_group '%s': no such group", group);
			return -ENOENT;
		}
		s->gid = gr->gr_gid;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* root and the admin group only: this is the appliance's console */
	if ((e = bind_private(fd, path, s->gid, s->gid >= 0 ? 0660 : 0600)) < 0 ||
		(listen(fd, 8) < 0 && (e = -errno))) {
		close(fd);
		return e;
	}
	if ((e = evloop_add_fd(loop, fd, POLLIN, on_accept, s)) < 0) {
		close(fd);
		unlink(path);
		return e;
	}
	s->lfd = fd;
	return 0;
}

void ctl_close(struct ctl_server *s)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0) {
			evloop_del_fd(s->loop, s->clients[i].fd);
			close(s->clients[i].fd);
		}
	if (s->lfd >= 0) {
		evloop_del_fd(s->loop, s->lfd);
		close(s->lfd);
		unlink(s->path);
	}
	s->lfd = -1;
}

static void drop_client(struct ctl_server *s, struct ctl_client *c)
{
	evloop_del_fd(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void answer(struct ctl_server *s, struct ctl_client *c, const char *line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	if (!out) {
		drop_client(s, c);
		return;
	}
	rc = cli_exec(s->cli, line, out);
	fprintf(out, "%c%d\n", CTL_TRAILER, rc < 0 ? -rc : 0);
	fclose(out);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(c->fd, text + off, len - off);
		if (w <=
			0) { /* a client that stopped reading loses its answer, nobody else waits */
			drop_client(s, c);
			break;
		}
		off += w;
	}
	free(text);
}

static void serve_client(struct ctl_server *s, struct ctl_client *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl;

	if (r <= 0) {
		drop_client(s, c);
		return;
	}
	c->len += r;
	c->buf[c->len] = '\0';
	while (c->fd >= 0 && (nl = strchr(c->buf, '\n'))) {
		*nl = '\0';
		answer(s, c, c->buf);
		if (c->fd < 0)
			return;
		c->len -= nl + 1 - c->buf;
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->fd >= 0 && c->len == sizeof(c->buf) - 1) {
		static const char msg[] = "error: command too long\n\x04"
					  "7\n";
		if (write(c->fd, msg, sizeof(msg) - 1) < 0) { /* dropped below anyway */
		}
		drop_client(s, c);
	}
}

/* Who may use the console: root, edged's own user, a member of mgmt.socket_group. The
 * socket's mode already keeps others out; this holds if the mode is ever wrong. */
static bool peer_allowed(struct ctl_server *s, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[256];
	time_t now;
	char msg[160];
	int n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		uc = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	else if (uc.uid == 0 || uc.uid == geteuid())
		return true;
	else if (s->gid >= 0 && uc.gid == (gid_t)s->gid)
		return true;
	len = sizeof(groups);
	if (s->gid >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == (gid_t)s->gid)
				return true;
	n = snprintf(msg, sizeof(msg), "error: permission denied: uid %u is not root%s%s\n%c%d\n",
		(unsigned int)uc.uid, s->gid >= 0 ? " nor in group " : "",
		s->gid >= 0 ? s->cli->cfg->ctl_group : "", CTL_TRAILER, EACCES);
	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* closed below anyway */
	}
	now = time(NULL);
	if (now - s->refused_logged >= CTL_REFUSE_LOG_S) {
		if (s->refused_quiet)
			edge_log(LOG_WARNING, "mgmt",
				"control socket: refused uid %u (pid %d), and %u "
				"more since the last report",
				(unsigned int)uc.uid, (int)uc.pid, s->refused_quiet);
		else
			edge_log(LOG_WARNING, "mgmt", "control socket: refused uid %u (pid %d)",
				(unsigned int)uc.uid, (int)uc.pid);
		s->refused_logged = now;
		s->refused_quiet = 0;
	} else {
		s->refused_quiet++;
	}
	return false;
}

static void on_client(void *ctx, int fd, short revents)
{
	struct ctl_server *s = ctx;

	(void)revents;
	for (int k = 0; k < CTL_MAX_CLIENTS; k++)
		if (s->clients[k].fd == fd) {
			serve_client(s, &s->clients[k]);
			return;
		}
}

static void on_accept(void *ctx, int lfd, short revents)
{
	struct ctl_server *s = ctx;
	struct timeval tv = { .tv_sec = 2 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), slot = -1;

	(void)revents;
	if (fd < 0)
		return;
	if (!peer_allowed(s, fd)) {
		close(fd);
		return;
	}
	for (int k = 0; k < CTL_MAX_CLIENTS; k++)
		if (s->clients[k].fd < 0) {
			slot = k;
			break;
		}
	if (slot < 0 || evloop_add_fd(s->loop, fd, POLLIN, on_client, s) < 0) {
		close(fd);
		edge_log(LOG_WARNING, "mgmt", "control socket: too many clients, refused one");
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->clients[slot].fd = fd;
	s->clients[slot].len = 0;
}
