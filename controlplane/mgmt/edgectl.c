/* edgectl: the operator's CLI. One-shot (`edgectl ipv4 a`) or interactive with a prompt,
 * line editing, history and completion of command words (libedit). It only talks to edged
 * over the control socket; the grammar lives in edged, so both modes answer alike. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <editline/readline.h>

#include "ctl.h"

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Sends one line, prints the answer; returns the command's status (0 = accepted). */
static int run(int fd, const char *line)
{
	char buf[4096];
	size_t len = strlen(line);
	bool at_line_start = true;

	if (len + 1 > CTL_LINE_MAX) {
		fprintf(stderr, "error: command too long\n");
		return 7;
	}
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "edgectl: lost the connection to edged\n");
		return 255;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0) {
			fprintf(stderr, "edgectl: lost the connection to edged\n");
			return 255;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (at_line_start && buf[i] == CTL_TRAILER) {
				/* trailer: "\x04<rc>\n", always last */
				fflush(stdout);
				return atoi(&buf[i + 1]);
			}
			putchar(buf[i]);
			at_line_start = buf[i] == '\n';
		}
	}
}

static const char *words[] = { "ipv4", "iface", "status", "arp", "ping", "turn", "firewall", "log", "help", "add", "del",
	"default", "quit", "exit", NULL };

static char *complete_word(const char *text, int state)
{
	static int i;
	static size_t len;

	if (state == 0) {
		i = 0;
		len = strlen(text);
	}
	while (words[i])
		if (strncmp(words[i++], text, len) == 0)
			return strdup(words[i - 1]);
	return NULL;
}

static int interactive(int fd)
{
	char *line;
	int last = 0;

	rl_completion_entry_function = complete_word;
	using_history();
	while ((line = readline("edge> ")) != NULL) {
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strcmp(p, "quit") || !strcmp(p, "exit")) {
			free(line);
			break;
		}
		if (*p) {
			add_history(p);
			last = run(fd, p);
			if (last == 255) {
				free(line);
				return 1;
			}
		}
		free(line);
	}
	return last ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("EDGECTL_SOCKET");
	char line[CTL_LINE_MAX];
	int opt, fd, rc;
	size_t off = 0;

	if (!path)
		path = "/run/edged.sock";
	while ((opt = getopt(argc, argv, "+s:h")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: edgectl [-s SOCKET] [command ...]\n"
				"  with no command: an interactive prompt ('help' lists commands)\n"
				"  SOCKET defaults to $EDGECTL_SOCKET, else /run/edged.sock\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, "edgectl: cannot reach edged at %s: %s\n", path, strerror(-fd));
		return 255;
	}
	if (optind == argc) {
		if (isatty(STDIN_FILENO))
			return interactive(fd);
		/* commands on standard input, one per line, as in a script */
		rc = 0;
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] && line[0] != '#' && (rc = run(fd, line)) == 255)
				break;
		}
		return rc ? 1 : 0;
	}
	line[0] = '\0';
	for (int i = optind; i < argc; i++) {
		int n = snprintf(line + off, sizeof(line) - off, "%s%s", i > optind ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(stderr, "error: command too long\n");
			return 2;
		}
		off += n;
	}
	rc = run(fd, line);
	close(fd);
	return rc == 0 ? 0 : 1;
}
