/* The `lakehouse` program: one binary, git-style subcommands. This file holds only the
 * command table and the dispatch; each cmd_<name>.c parses its own options. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} COMMANDS[] = {
    {"serve", lh_cmd_serve, "run the HTTP API server over a data directory"},
    {"sql", lh_cmd_sql, "run a read-only SQL query and print the result"},
    {"ingest", lh_cmd_ingest, "load a CSV or TSV file into a dataset"},
    {"datasets", lh_cmd_datasets, "list the datasets in the lake"},
    {"index", lh_cmd_index, "build or update a vector index over a dataset column"},
    {"search", lh_cmd_search, "search a vector index by text"},
    {"ask", lh_cmd_ask, "ask a question about the data in plain language (NL->SQL)"},
    {"rag", lh_cmd_rag, "answer a question from a vector index, with citations"},
    {"version", lh_cmd_version, "print the version of lakehouse and DuckDB"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: lakehouse <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < LH_ARRAY_LEN(COMMANDS); i++)
        fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(out, "\nsql, ingest and datasets work on a data directory (--data DIR) or, with\n"
                 "--url URL, on a running server. 'lakehouse help <command>' shows a "
                 "command's options.\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(COMMANDS); i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static int unknown(const char *name)
{
    fprintf(stderr, "lakehouse: '%s' is not a lakehouse command; see 'lakehouse --help'\n",
            name);
    return LH_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LH_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            /* `lakehouse help sql` is `lakehouse sql --help`. */
            const struct command *c = find(argv[2]);
            if (!c)
                return unknown(argv[2]);
            char *help_argv[] = {argv[2], "--help", NULL};
            return c->fn(2, help_argv);
        }
        usage(stdout);
        return LH_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        return lh_cmd_version(1, argv + 1);
    const struct command *c = find(name);
    if (!c)
        return unknown(name);
    return c->fn(argc - 1, argv + 1);
}
