/* Control-socket server, run inside the control plane's event loop (no thread of its own):
 * accepts edgectl connections, reads command lines, answers each through the CLI. */
#include <errno.h>
#include <fcntl.h>
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

int ctl_open(struct ctl_server *s, const char *path, struct cli *cli)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	memset(s, 0, sizeof(*s));
	s->cli = cli;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(s->path, sizeof(s->path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);	/* a socket left by a process that died */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	chmod(path, 0660);	/* root and the admin group only: this is the appliance's console */
	s->lfd = fd;
	return 0;
}

void ctl_close(struct ctl_server *s)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			close(s->clients[i].fd);
	if (s->lfd > 0) {
		close(s->lfd);
		unlink(s->path);
	}
	s->lfd = -1;
}

int ctl_pollfds(struct ctl_server *s, struct pollfd *pfd, int max)
{
	int n = 0;

	if (max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < CTL_MAX_CLIENTS && n < max; i++)
		if (s->clients[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = s->clients[i].fd, .events = POLLIN };
	return n;
}

static void drop_client(struct ctl_client *c)
{
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
		drop_client(c);
		return;
	}
	rc = cli_exec(s->cli, line, out);
	fprintf(out, "%c%d\n", CTL_TRAILER, rc < 0 ? -rc : 0);
	fclose(out);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(c->fd, text + off, len - off);
		if (w <= 0) {	/* a client that stopped reading loses its answer, nobody else waits */
			drop_client(c);
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
		drop_client(c);
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
		static const char msg[] = "error: command too long\n\x04" "7\n";
		if (write(c->fd, msg, sizeof(msg) - 1) < 0)
			{ /* dropped below anyway */ }
		drop_client(c);
	}
}

void ctl_serve(struct ctl_server *s, const struct pollfd *pfd, int n)
{
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == s->lfd) {
			int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
			struct timeval tv = { .tv_sec = 2 };
			int slot = -1;

			if (fd < 0)
				continue;
			for (int k = 0; k < CTL_MAX_CLIENTS; k++)
				if (s->clients[k].fd < 0) {
					slot = k;
					break;
				}
			if (slot < 0) {
				close(fd);
				edge_log(LOG_WARNING, "mgmt", "control socket: too many clients, refused one");
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			s->clients[slot].fd = fd;
			s->clients[slot].len = 0;
			continue;
		}
		for (int k = 0; k < CTL_MAX_CLIENTS; k++)
			if (s->clients[k].fd == pfd[i].fd) {
				serve_client(s, &s->clients[k]);
				break;
			}
	}
}
