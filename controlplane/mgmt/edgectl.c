/* edgectl: the operator's CLI. One-shot (`edgectl ipv4 a`) or interactive with a prompt,
 * line editing, history and completion of command words (libedit). It only talks to edged
 * over the control socket; the grammar lives in edged, so both modes answer alike. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
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

/* `user add <name> <role>` and `user passwd <name>` without a password: edgectl asks for it
 * (twice, not echoed) and appends it, so it is never on a command line or in the history. */
static const char *wants_password(const char *line)
{
	char buf[CTL_LINE_MAX], *w[5], *save;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 5; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n < 2 || strcmp(w[0], "user"))
		return NULL;
	if (n == 4 && !strcmp(w[1], "add"))
		return "user add";
	if (n == 3 && !strcmp(w[1], "passwd"))
		return "user passwd";
	return NULL;
}

static struct termios saved_tio;
static volatile sig_atomic_t tio_changed;

/* Echo back on if the operator interrupts the prompt. */
static void restore_tty(int sig)
{
	if (tio_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from the terminal with echo off. 0 or -errno. */
static int read_secret(const char *prompt, char *buf, size_t len)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct termios t;
	int rc = 0;

	fputs(prompt, stdout);
	fflush(stdout);
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -errno;
	t = saved_tio;
	t.c_lflag &= ~ECHO;
	t.c_lflag |= ECHONL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], restore_tty);
	tio_changed = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		rc = -errno;
	else if (!fgets(buf, len, stdin))
		rc = -EIO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_changed = 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	if (!rc && !strchr(buf, '\n') && !feof(stdin))
		rc = -E2BIG;
	buf[strcspn(buf, "\n")] = '\0';
	return rc;
}

/* @line with the password it lacks appended to @full; 0, or an error printed and -EINVAL. */
static int with_password(const char *line, const char *cmd, char *full, size_t len)
{
	char a[256], b[256];
	int rc = -EINVAL, r;

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"error: %s: no password, and no terminal to ask for one (give it "
			"as the last word)\n",
			cmd);
		return -EINVAL;
	}
	if ((r = read_secret("Password: ", a, sizeof(a))) < 0 ||
		(r = read_secret("Password again: ", b, sizeof(b))) < 0)
		fprintf(stderr, "error: %s: password not read: %s\n", cmd,
			r == -E2BIG ? "too long" : strerror(-r));
	else if (strcmp(a, b))
		fprintf(stderr, "error: %s: the two passwords differ; nothing changed\n", cmd);
	else if (!a[0])
		fprintf(stderr, "error: %s: empty password; nothing changed\n", cmd);
	else if (strpbrk(a, " \t"))
		fprintf(stderr, "error: %s: a password may not contain blanks\n", cmd);
	else if ((size_t)snprintf(full, len, "%s %s", line, a) >= len)
		fprintf(stderr, "error: command too long\n");
	else
		rc = 0;
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return rc;
}

/* Prints what edged sent, byte by byte, never a raw control character: newlines and
 * printable ASCII pass, a complete UTF-8 sequence passes unless it is a C1 control
 * (U+0080..U+009F), anything else (ESC, BEL, CR, DEL, stray bytes) is written "\xNN". A
 * log line of a stranger's request cannot drive the operator's terminal. */
static struct {
	unsigned char seq[4];
	unsigned int n, want;
} u8;

static void put_escaped(const unsigned char *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		printf("\\x%02x", p[i]);
}

static void put_safe(unsigned char c)
{
	if (u8.want) {
		if ((c & 0xc0) == 0x80) {
			u8.seq[u8.n++] = c;
			if (u8.n < u8.want)
				return;
			if (u8.seq[0] == 0xc2 && u8.seq[1] < 0xa0)
				put_escaped(u8.seq, u8.n);
			else
				fwrite(u8.seq, 1, u8.n, stdout);
			u8.n = u8.want = 0;
			return;
		}
		put_escaped(u8.seq, u8.n); /* cut short: not UTF-8 */
		u8.n = u8.want = 0;
	}
	if (c == '\n' || (c >= 0x20 && c < 0x7f))
		putchar(c);
	else if (c >= 0xc2 && c <= 0xf4) {
		u8.seq[0] = c;
		u8.n = 1;
		u8.want = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	} else
		put_escaped(&c, 1);
}

/* Sends one line, prints the answer; returns the command's status (0 = accepted). */
static int run(int fd, const char *line)
{
	char buf[4096], full[CTL_LINE_MAX];
	const char *cmd = wants_password(line);
	size_t len;
	bool at_line_start = true;

	if (cmd) {
		if (with_password(line, cmd, full, sizeof(full)) < 0)
			return EINVAL;
		line = full;
	}
	len = strlen(line);

	if (len + 1 > CTL_LINE_MAX) {
		fprintf(stderr, "error: command too long\n");
		return 7;
	}
	/* a failed write still reads on: edged may have said why it closed (a refusal) */
	if (write(fd, line, len) == (ssize_t)len)
		(void)!write(fd, "\n", 1);
	explicit_bzero(full, sizeof(full)); /* it may hold a password */
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);

		if (r <= 0) {
			fprintf(stderr, "edgectl: lost the connection to edged\n");
			return 255;
		}
		buf[r] = '\0';
		for (ssize_t i = 0; i < r; i++) {
			if (at_line_start && buf[i] == CTL_TRAILER) {
				/* trailer: "\x04<rc>\n", always last */
				put_escaped(u8.seq, u8.n);
				u8.n = u8.want = 0;
				fflush(stdout);
				return atoi(&buf[i + 1]);
			}
			put_safe((unsigned char)buf[i]);
			at_line_start = buf[i] == '\n';
		}
	}
}

static const char *words[] = { "ipv4", "ipv6", "iface", "status", "arp", "ping", "turn", "firewall",
	"log", "help", "add", "del", "default", "quit", "exit", "pki", "user", "webbridge3",
	"callbridge", "webadmin", "https", "c2w", "listen", "certs", "trust", "http-redirect",
	"enable", "disable", "restart", "connections", "calls", "participants", "wc3jwt", "expiry",
	"passwd", "list", "route", "simulcast", "hardware", NULL };

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
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char line[CTL_LINE_MAX];
	bool json = false;
	int opt, fd, rc;
	size_t off = 0;

	if (!path)
		path = "/run/edge/edged.sock";
	signal(SIGPIPE, SIG_IGN); /* edged closing on us is reported, not fatal */
	while ((opt = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			fprintf(stderr,
				"usage: edgectl [-s SOCKET] [--json] [command ...]\n"
				"  with no command: an interactive prompt ('help' lists commands)\n"
				"  --json: the counters behind a page as JSON (edgectl --json turn,\n"
				"          edgectl --json iface a, edgectl --json metrics)\n"
				"  SOCKET defaults to $EDGECTL_SOCKET, else /run/edge/edged.sock\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (json && optind == argc) {
		fprintf(stderr, "edgectl: --json needs a command (e.g. edgectl --json turn)\n");
		return 2;
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
	if (json) /* the grammar's own form: "--json <page> [<arg>]" */
		off = (size_t)snprintf(line, sizeof(line), "--json ");
	for (int i = optind; i < argc; i++) {
		int n = snprintf(line + off, sizeof(line) - off, "%s%s", i > optind ? " " : "",
			argv[i]);
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
