/* The control socket: edgectl's UNIX-socket link to edged. One command line per request;
 * the answer is the command's output followed by a trailer line "\x04<rc>\n", so a client
 * knows where an answer ends and whether the command was refused. */
#ifndef EDGE_CTL_H
#define EDGE_CTL_H

#include <stddef.h>
#include <time.h>

#include "cli.h"
#include "evloop.h"

#define CTL_TRAILER '\x04'
#define CTL_MAX_CLIENTS 16
#define CTL_LINE_MAX 1024

struct ctl_client {
	int fd;
	size_t len;
	char buf[CTL_LINE_MAX];
};

struct ctl_server {
	int lfd;
	char path[108];
	struct cli *cli;
	struct evloop *loop; /* serves the listening socket and every client */
	struct ctl_client clients[CTL_MAX_CLIENTS];
	long gid;		    /* mgmt.socket_group's, or -1: root only */
	time_t refused_logged;	    /* refusals are logged at most once in CTL_REFUSE_LOG_S */
	unsigned int refused_quiet; /* ... and the ones not logged are counted */
};

#define CTL_REFUSE_LOG_S 10

/* Creates the socket at @path already owned by root:<mgmt.socket_group> with mode 0660
 * (0600 without a group): bound inside a fresh 0700 directory beside @path, then renamed
 * into place, so there is no moment at which anyone else could connect. Every connection
 * is checked again on accept (SO_PEERCRED): root, edged's own user, or a member of the
 * group; others get one line of refusal. The socket and each client registers with @loop,
 * whose passes serve them. */
int ctl_open(struct ctl_server *s, const char *path, struct cli *cli, struct evloop *loop);
/* Closes every client and the socket, and takes them out of the loop. */
void ctl_close(struct ctl_server *s);

#endif
