/* What the CLI's command modules share: refusing with a message, naming interfaces, and
 * handing a validated configuration to the appliance. Private to the CLI. */
#ifndef EDGE_CLI_INT_H
#define EDGE_CLI_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

/* Prints "error: ..." and returns -EINVAL. */
int cli_refuse(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The index of interface @word, or a refusal naming it (negative). */
int cli_want_iface(struct cli *cli, const char *cmd, const char *word, FILE *out);
/* "enable" or "disable" into @v; a refusal naming @w otherwise. */
int cli_enable_word(const char *cmd, const char *w, bool *v, FILE *out);
/* Applies @next through cli_ops.apply and logs @what; a refusal if it fails. */
int cli_apply(struct cli *cli, const struct edge_cfg *next, const char *what, FILE *out);

/* The pki commands (controlplane/mgmt/pki.c). */
int pki_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out);
void pki_cli_help(FILE *out);
/* Puts @word's path in @path (a bare name is looked up in the certificate directory) and
 * checks that it is a readable file; a refusal naming @word otherwise. */
int pki_cli_file(struct cli *cli, const char *cmd, const char *word, char *path, size_t len,
	FILE *out);
/* pki_cli_file(), and @word as typed into @dst (@len long: a refusal if it does not fit). */
int pki_cli_name(struct cli *cli, const char *cmd, const char *word, char *path, size_t plen,
	char *dst, size_t len, FILE *out);
/* `<cmd> <key> <cert> [<bundle>]` (turn, webbridge3, callbridge, webadmin certs): the files
 * must be readable, the key the certificate's, the chain in order and valid now; their names
 * as typed go to @key, @cert and @bundle (NULL: no bundle taken), each @len long. Prints
 * "SUCCESS: Key and certificate pair match". */
int pki_cli_certs(struct cli *cli, const char *cmd, int argc, char **argv, char *key, char *cert,
	char *bundle, size_t len, FILE *out);

#endif
