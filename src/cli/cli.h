/* cli: the `lakehouse` program. main.c holds the subcommand table; each cmd_<name>.c parses
 * its own options. Embedded commands call the same module functions the HTTP handlers call;
 * with --url they call the HTTP API through libcurl. Nothing is implemented twice. */
#ifndef LH_CLI_H
#define LH_CLI_H

#include "core/core.h"

int lh_cmd_version(int argc, char **argv);
int lh_cmd_serve(int argc, char **argv);
int lh_cmd_sql(int argc, char **argv);
int lh_cmd_ingest(int argc, char **argv);
int lh_cmd_datasets(int argc, char **argv);
int lh_cmd_index(int argc, char **argv);
int lh_cmd_search(int argc, char **argv);
int lh_cmd_ask(int argc, char **argv);
int lh_cmd_rag(int argc, char **argv);

#endif
