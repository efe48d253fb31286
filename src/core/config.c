/* config: the program's settings (struct lh_config in core.h) from defaults, lakehouse.toml,
 * LAKEHOUSE_* environment variables and flags. Every key is one row of the settings table
 * below; the file, the environment and the CLI all go through set_text(), so a key is parsed
 * and validated the same way wherever it comes from. Buckets ([buckets.<name>] tables) are a
 * list, not a row, and live in config_buckets.c. docs/internals/config.md lists the keys. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core_int.h"

/* A config file is a few hundred bytes; a megabyte is a generous ceiling. */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)
#define CONFIG_MAX_STRING 4096
#define GIB (INT64_C(1) << 30)
#define SIZE_MAX_BYTES (INT64_C(1) << 62)

typedef enum kind {
    K_STRING, /* char * */
    K_INT,    /* int, plain integer */
    K_COUNT,  /* int64_t, plain integer */
    K_SIZE,   /* int64_t, bytes: integer or "64MiB" */
    K_LISTEN, /* "host:port" -> char *listen_host + int listen_port */
    K_REAL,   /* double, a number in min..max */
} kind;

typedef struct setting setting;
/* Extra checks on a string value beyond "not too long, no NUL"; may rewrite *value into an
 * owned normalized form (set *owned). */
typedef int (*validator)(const setting *s, const char *value, char **owned, lh_err *err);

struct setting {
    const char *key;   /* "section.name" */
    const char *alias; /* short environment name, or NULL */
    kind kind;
    size_t off;
    int64_t min, max; /* numeric kinds */
    validator check;  /* K_STRING only */
    bool secret;      /* printed as "***" by lh_config_to_json when set */
};

static int check_path(const setting *s, const char *v, char **owned, lh_err *err);
static int check_log_level(const setting *s, const char *v, char **owned, lh_err *err);
static int check_memory_limit(const setting *s, const char *v, char **owned, lh_err *err);
static int check_provider(const setting *s, const char *v, char **owned, lh_err *err);
static int check_generator(const setting *s, const char *v, char **owned, lh_err *err);

#define FIELD(f) offsetof(lh_config, f)
static const setting settings[] = {
    {"server.data_dir", "LAKEHOUSE_DATA", K_STRING, FIELD(data_dir), 0, 0, check_path},
    {"server.listen", "LAKEHOUSE_LISTEN", K_LISTEN, FIELD(listen_host), 0, 65535, NULL},
    {"server.max_connections", NULL, K_INT, FIELD(http_max_connections), 1, 65536, NULL},
    /* JSON bodies are held in memory whole, hence the lower ceiling. */
    {"server.max_body_bytes", NULL, K_SIZE, FIELD(max_body_bytes), 1, GIB, NULL},
    {"server.max_upload_bytes", NULL, K_SIZE, FIELD(max_upload_bytes), 1, SIZE_MAX_BYTES, NULL},
    {"server.log_level", "LAKEHOUSE_LOG_LEVEL", K_STRING, FIELD(log_level), 0, 0,
     check_log_level},
    {"server.secrets_file", NULL, K_STRING, FIELD(secrets_file), 0, 0, NULL},
    {"query.timeout_ms", NULL, K_INT, FIELD(query_timeout_ms), 1, 24 * 3600 * 1000, NULL},
    {"query.max_rows", NULL, K_COUNT, FIELD(query_max_rows), 1, SIZE_MAX_BYTES, NULL},
    {"query.max_result_bytes", NULL, K_SIZE, FIELD(query_max_bytes), 1, SIZE_MAX_BYTES, NULL},
    {"query.connections", NULL, K_INT, FIELD(query_connections), 1, 1024, NULL},
    {"query.threads", NULL, K_INT, FIELD(query_threads), 0, 1024, NULL},
    {"query.memory_limit", NULL, K_STRING, FIELD(query_memory_limit), 0, 0,
     check_memory_limit},
    {"query.cache_max_bytes", NULL, K_SIZE, FIELD(query_cache_max_bytes), 1, SIZE_MAX_BYTES,
     NULL},
    {"embed.provider", NULL, K_STRING, FIELD(embed_provider), 0, 0, check_provider},
    {"embed.model", NULL, K_STRING, FIELD(embed_model), 0, 0, NULL},
    {"embed.url", NULL, K_STRING, FIELD(embed_url), 0, 0, NULL},
    {"embed.dims", NULL, K_INT, FIELD(embed_dims), 0, 65536, NULL},
    {"embed.batch", NULL, K_INT, FIELD(embed_batch), 1, 4096, NULL},
    {"embed.concurrency", NULL, K_INT, FIELD(embed_concurrency), 1, 64, NULL},
    {"embed.api_key", NULL, K_STRING, FIELD(embed_api_key), 0, 0, NULL, true},
    {"vector.workers", NULL, K_INT, FIELD(vector_workers), 1, 64, NULL},
    {"vector.hnsw_m", NULL, K_INT, FIELD(vector_hnsw_m), 2, 128, NULL},
    {"vector.hnsw_ef_construction", NULL, K_INT, FIELD(vector_hnsw_ef_construction), 8, 4096,
     NULL},
    {"vector.ef_search", NULL, K_INT, FIELD(vector_ef_search), 1, 10000, NULL},
    {"vector.exact_below", NULL, K_INT, FIELD(vector_exact_below), 0, 100000000, NULL},
    /* [generate], [rerank]: the ai module's text model. */
    {"generate.provider", NULL, K_STRING, FIELD(generate_provider), 0, 0, check_generator},
    {"generate.model", NULL, K_STRING, FIELD(generate_model), 0, 0, NULL},
    {"generate.url", NULL, K_STRING, FIELD(generate_url), 0, 0, NULL},
    {"generate.api_key", NULL, K_STRING, FIELD(generate_api_key), 0, 0, NULL, true},
    {"generate.timeout_ms", NULL, K_INT, FIELD(generate_timeout_ms), 1, 24 * 3600 * 1000, NULL},
    {"generate.temperature", NULL, K_REAL, FIELD(generate_temperature), 0, 2, NULL},
    {"rerank.model", NULL, K_STRING, FIELD(rerank_model), 0, 0, NULL},
};

#define FIELD_PTR(c, s, type) ((type *)(void *)((char *)(c) + (s)->off))

void lh_config_init(lh_config *c)
{
    memset(c, 0, sizeof *c);
    c->data_dir = lh_xstrdup("./lakehouse-data");
    c->listen_host = lh_xstrdup("127.0.0.1");
    c->listen_port = 3100;
    c->http_max_connections = 256;
    c->max_body_bytes = INT64_C(1) << 20;
    c->max_upload_bytes = INT64_C(16) << 30;
    c->log_level = lh_xstrdup("info");
    c->secrets_file = lh_xstrdup(""); /* "" = <data>/secrets.toml */
    c->query_timeout_ms = 30000;
    c->query_max_rows = 10000000;
    c->query_max_bytes = INT64_C(4) << 30;
    c->query_connections = 8;
    c->query_threads = 0;
    c->query_memory_limit = lh_xstrdup("");
    c->query_cache_max_bytes = INT64_C(1) << 30;
    c->embed_provider = lh_xstrdup("lexical");
    c->embed_model = lh_xstrdup("");
    c->embed_url = lh_xstrdup("");
    c->embed_dims = 0;
    c->embed_batch = 64;
    c->embed_concurrency = 4;
    c->embed_api_key = lh_xstrdup("");
    c->vector_workers = 2;
    c->vector_hnsw_m = 16;
    c->vector_hnsw_ef_construction = 200;
    c->vector_ef_search = 64;
    c->vector_exact_below = 5000;
    c->generate_provider = lh_xstrdup("");
    c->generate_model = lh_xstrdup("");
    c->generate_url = lh_xstrdup("");
    c->generate_api_key = lh_xstrdup("");
    c->generate_timeout_ms = 120000;
    c->generate_temperature = 0.0;
    c->rerank_model = lh_xstrdup("");
    lh_config__buckets_init(c);
}

void lh_config_release(lh_config *c)
{
    if (!c)
        return;
    free(c->config_path);
    free(c->data_dir);
    free(c->listen_host);
    free(c->log_level);
    free(c->secrets_file);
    free(c->query_memory_limit);
    free(c->embed_provider);
    free(c->embed_model);
    free(c->embed_url);
    free(c->embed_api_key);
    c->embed_provider = c->embed_model = c->embed_url = c->embed_api_key = NULL;
    free(c->generate_provider);
    free(c->generate_model);
    free(c->generate_url);
    free(c->generate_api_key);
    free(c->rerank_model);
    c->generate_provider = c->generate_model = c->generate_url = NULL;
    c->generate_api_key = c->rerank_model = NULL;
    lh_config__buckets_free(c->buckets, c->nbuckets);
    c->config_path = c->data_dir = c->listen_host = c->log_level = NULL;
    c->query_memory_limit = c->secrets_file = NULL;
    c->buckets = NULL;
    c->nbuckets = 0;
}

/* Deep copy, so a load that fails halfway can leave the caller's config untouched. */
static void config_copy(lh_config *dst, const lh_config *src)
{
    *dst = *src;
    dst->config_path = src->config_path ? lh_xstrdup(src->config_path) : NULL;
    dst->data_dir = lh_xstrdup(src->data_dir);
    dst->listen_host = lh_xstrdup(src->listen_host);
    dst->log_level = lh_xstrdup(src->log_level);
    dst->secrets_file = lh_xstrdup(src->secrets_file);
    dst->query_memory_limit = lh_xstrdup(src->query_memory_limit);
    dst->embed_provider = lh_xstrdup(src->embed_provider);
    dst->embed_model = lh_xstrdup(src->embed_model);
    dst->embed_url = lh_xstrdup(src->embed_url);
    dst->embed_api_key = lh_xstrdup(src->embed_api_key);
    dst->generate_provider = lh_xstrdup(src->generate_provider);
    dst->generate_model = lh_xstrdup(src->generate_model);
    dst->generate_url = lh_xstrdup(src->generate_url);
    dst->generate_api_key = lh_xstrdup(src->generate_api_key);
    dst->rerank_model = lh_xstrdup(src->rerank_model);
    dst->buckets = lh_config__buckets_copy(src->buckets, src->nbuckets);
}

static void config_replace(lh_config *c, lh_config *next)
{
    lh_config_release(c);
    *c = *next;
}

static const setting *find_setting(const char *key)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(settings); i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

static int parse_int64(const char *v, int64_t *out)
{
    char *end;
    if (!*v || *v == ' ' || *v == '\t')
        return -1;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno == ERANGE || end == v)
        return -1;
    *out = n;
    return *end ? 1 : 0; /* 1: a suffix follows at v + (end - v) */
}

/* "64MiB", "1GB", "512 KiB", "1024": decimal (KB = 1000) and binary (KiB = 1024) units. */
static int parse_size(const char *v, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {
        {"b", 1},
        {"kb", 1000},
        {"mb", 1000000},
        {"gb", 1000000000},
        {"tb", INT64_C(1000000000000)},
        {"kib", INT64_C(1) << 10},
        {"mib", INT64_C(1) << 20},
        {"gib", INT64_C(1) << 30},
        {"tib", INT64_C(1) << 40},
    };
    char *end;
    if (!(*v >= '0' && *v <= '9') && *v != '-')
        return -1;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno == ERANGE || end == v)
        return -1;
    while (*end == ' ')
        end++;
    if (!*end) {
        *out = n;
        return 0;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(units); i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        if (n > INT64_MAX / units[i].mult || n < INT64_MIN / units[i].mult)
            return -1;
        *out = n * units[i].mult;
        return 0;
    }
    return -1;
}

static int check_path(const setting *s, const char *v, char **owned, lh_err *err)
{
    (void)owned;
    if (!*v)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s must not be empty", s->key);
    return 0;
}

static int check_log_level(const setting *s, const char *v, char **owned, lh_err *err)
{
    (void)owned;
    if (lh_log_parse_level(v) < 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "%s: unknown log level '%s' (expected error, warn, info or debug)",
                          s->key, v);
    return 0;
}

/* DuckDB wants a unit ("4GB", "512MiB"); a bare number means bytes here and is passed on
 * as "<n>B". Below a megabyte DuckDB cannot even run a query, so that is refused early. */
static int check_memory_limit(const setting *s, const char *v, char **owned, lh_err *err)
{
    int64_t n;
    if (!*v)
        return 0;
    if (parse_size(v, &n) < 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "%s: invalid size '%s' (expected e.g. 4GB, 512MiB)", s->key, v);
    if (n < (INT64_C(1) << 20))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: '%s' is below the minimum of 1MiB",
                          s->key, v);
    int64_t plain;
    if (parse_int64(v, &plain) == 0)
        *owned = lh_xasprintf("%lldB", (long long)plain);
    return 0;
}

/* The embedders the model module knows (core cannot ask it: it sits above us). */
static int check_provider(const setting *s, const char *v, char **owned, lh_err *err)
{
    (void)owned;
    static const char *const known[] = {"lexical", "builtin", "ollama", "openai"};
    for (size_t i = 0; i < LH_ARRAY_LEN(known); i++)
        if (strcmp(v, known[i]) == 0)
            return 0;
    return lh_err_set(err, LH_INVALID_ARGUMENT,
                      "%s: unknown provider '%s' (expected lexical, ollama or openai)", s->key, v);
}

/* The text generators the model module knows; "" means none (extractive and profile-only
 * answers). */
static int check_generator(const setting *s, const char *v, char **owned, lh_err *err)
{
    (void)owned;
    if (!*v || strcmp(v, "ollama") == 0 || strcmp(v, "openai") == 0)
        return 0;
    return lh_err_set(err, LH_INVALID_ARGUMENT,
                      "%s: unknown provider '%s' (expected ollama, openai or \"\" for none)",
                      s->key, v);
}

/* "host:port", "[v6]:port", ":port" (loopback) or "port". */
static int set_listen(lh_config *c, const setting *s, const char *v, lh_err *err)
{
    const char *host = "127.0.0.1", *port_text = v;
    size_t host_len = strlen(host);
    const char *colon = strrchr(v, ':');
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close == v + 1 || close[1] != ':')
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "%s: invalid address '%s' (expected [ipv6]:port)", s->key, v);
        host = v + 1;
        host_len = (size_t)(close - host);
        port_text = close + 2;
    } else if (colon) {
        if (memchr(v, ':', (size_t)(colon - v)))
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "%s: invalid address '%s' (write IPv6 addresses as [addr]:port)",
                              s->key, v);
        if (colon != v) {
            host = v;
            host_len = (size_t)(colon - v);
        }
        port_text = colon + 1;
    }
    for (size_t i = 0; i < host_len; i++)
        if (host[i] == ' ' || host[i] == '\t' || host[i] == '/' || host[i] == '[')
            return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: invalid host in '%s'", s->key, v);
    int64_t port;
    if (host_len > 255 || parse_int64(port_text, &port) != 0 || *port_text == '+' ||
        *port_text == '-' || port < s->min || port > s->max)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "%s: invalid address '%s' (expected host:port with port 0..65535)",
                          s->key, v);
    free(c->listen_host);
    c->listen_host = lh_xstrndup(host, host_len);
    c->listen_port = (int)port;
    return 0;
}

/* The one place a setting gets its value; callers add where the text came from. */
static int set_text(lh_config *c, const setting *s, const char *v, lh_err *err)
{
    if (strlen(v) > CONFIG_MAX_STRING)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: value longer than %d bytes", s->key,
                          CONFIG_MAX_STRING);
    int64_t n = 0;
    switch (s->kind) {
    case K_STRING: {
        char *owned = NULL;
        if (s->check && s->check(s, v, &owned, err) < 0)
            return -1;
        char **field = FIELD_PTR(c, s, char *);
        free(*field);
        *field = owned ? owned : lh_xstrdup(v);
        return 0;
    }
    case K_LISTEN:
        return set_listen(c, s, v, err);
    case K_REAL: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !(d >= (double)s->min && d <= (double)s->max))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: '%s' is not a number in %lld..%lld",
                              s->key, v, (long long)s->min, (long long)s->max);
        *FIELD_PTR(c, s, double) = d;
        return 0;
    }
    case K_INT:
    case K_COUNT:
        if (parse_int64(v, &n) != 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: '%s' is not an integer", s->key, v);
        break;
    case K_SIZE:
        if (parse_size(v, &n) < 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "%s: invalid size '%s' (expected bytes or e.g. 64MiB, 1GB)",
                              s->key, v);
        break;
    }
    if (n < s->min || n > s->max)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: %lld is out of range %lld..%lld",
                          s->key, (long long)n, (long long)s->min, (long long)s->max);
    if (s->kind == K_INT)
        *FIELD_PTR(c, s, int) = (int)n;
    else
        *FIELD_PTR(c, s, int64_t) = n;
    return 0;
}

/* "buckets.<name>.root" from a flag: the one bucket key. */
static int set_bucket_key(lh_config *c, const char *key, const char *value, lh_err *err)
{
    const char *name = key + strlen("buckets.");
    const char *dot = strchr(name, '.');
    if (!dot || strcmp(dot, ".root") != 0 || (size_t)(dot - name) > LH_NAME_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown config key '%.200s'", key);
    char *n = lh_xstrndup(name, (size_t)(dot - name));
    int rc = lh_config_set_bucket(c, n, value, err);
    free(n);
    return rc;
}

int lh_config_set(lh_config *c, const char *key, const char *value, lh_err *err)
{
    if (key && (strcmp(key, "buckets") == 0 || lh_str_has_prefix(key, "buckets."))) {
        if (!value)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "%.200s: missing value", key);
        return key[7] ? set_bucket_key(c, key, value, err) : lh_config_set_buckets(c, value, err);
    }
    const setting *s = find_setting(key);
    if (!s)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown config key '%s'", key);
    if (!value)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: missing value", key);
    return set_text(c, s, value, err);
}

/* A TOML value as the text set_text() takes, checking the TOML type fits the key's kind:
 * strings for strings, integers for numbers, either for sizes and the listen address. */
static char *value_text(const setting *s, const json_t *v, lh_err *err)
{
    if (json_is_string(v)) {
        if (s->kind == K_INT || s->kind == K_COUNT) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "%s must be an integer, not a string", s->key);
            return NULL;
        }
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "%s must not contain NUL characters", s->key);
            return NULL;
        }
        return lh_xstrdup(json_string_value(v));
    }
    if (json_is_integer(v) && s->kind != K_STRING)
        return lh_xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v) && s->kind == K_REAL)
        return lh_xasprintf("%.17g", json_real_value(v));
    lh_err_set(err, LH_INVALID_ARGUMENT, "%s must be %s", s->key,
               s->kind == K_REAL     ? "a number"
               : s->kind == K_STRING ? "a string"
               : (s->kind == K_INT || s->kind == K_COUNT) ? "an integer"
                                                           : "an integer or a string");
    return NULL;
}

/* Applies a parsed document: only known sections and keys, so a typo is an error. */
static int apply_doc(lh_config *c, const json_t *doc, lh_err *err)
{
    const char *section;
    json_t *table;
    json_object_foreach((json_t *)doc, section, table) {
        if (strcmp(section, "buckets") == 0) {
            if (!json_is_object(table))
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "'buckets' must be a table ([buckets.<name>])");
            if (lh_config__apply_buckets_doc(c, table, err) != 0)
                return -1;
            continue;
        }
        if (strcmp(section, "server") != 0 && strcmp(section, "query") != 0 &&
            strcmp(section, "embed") != 0 && strcmp(section, "vector") != 0 &&
            strcmp(section, "generate") != 0 && strcmp(section, "rerank") != 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown config key '%s'", section);
        if (!json_is_object(table))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' must be a table ([%s])", section,
                              section);
        const char *name;
        json_t *v;
        json_object_foreach(table, name, v) {
            char key[160];
            snprintf(key, sizeof key, "%s.%s", section, name);
            const setting *s = find_setting(key);
            if (!s)
                return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown config key '%s.%s'",
                                  section, name);
            char *text = value_text(s, v, err);
            if (!text)
                return -1;
            int rc = set_text(c, s, text, err);
            free(text);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

int lh_config_load_file(lh_config *c, const char *path, bool must_exist, lh_err *err)
{
    lh_err e = LH_ERR_INIT;
    size_t len;
    char *text = lh_file_read_all(path, CONFIG_MAX_FILE_BYTES, &len, &e);
    if (!text) {
        if (e.code == LH_NOT_FOUND && !must_exist)
            return 0;
        if (err)
            *err = e;
        return lh_err_prefix(err, "config: ");
    }
    json_t *doc = lh_toml_parse(text, len, err);
    free(text);
    if (!doc)
        return lh_err_prefix(err, "'%s': ", path);
    lh_config next;
    config_copy(&next, c);
    int rc = apply_doc(&next, doc, err);
    json_decref(doc);
    if (rc < 0) {
        lh_config_release(&next);
        return lh_err_prefix(err, "config '%s': ", path);
    }
    free(next.config_path);
    next.config_path = lh_xstrdup(path);
    config_replace(c, &next);
    return 0;
}

static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* LAKEHOUSE_ + the key upper-cased, '.' as '_': query.timeout_ms -> LAKEHOUSE_QUERY_TIMEOUT_MS. */
static void env_name(const setting *s, char *out, size_t size)
{
    snprintf(out, size, "LAKEHOUSE_%s", s->key);
    for (char *p = out; *p; p++) {
        if (*p == '.')
            *p = '_';
        else if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
}

extern char **environ;

int lh_config_apply_env(lh_config *c, char **envp, lh_err *err)
{
    if (!envp)
        envp = environ;
    lh_config next;
    config_copy(&next, c);
    for (size_t i = 0; i < LH_ARRAY_LEN(settings); i++) {
        const setting *s = &settings[i];
        char name[96];
        env_name(s, name, sizeof name);
        /* The short alias is applied last, so it wins when both are set. */
        const char *names[2] = {name, s->alias};
        for (int k = 0; k < 2; k++) {
            const char *v = names[k] ? env_get(envp, names[k]) : NULL;
            if (v && set_text(&next, s, v, err) < 0) {
                lh_config_release(&next);
                return lh_err_prefix(err, "environment variable %s: ", names[k]);
            }
        }
    }
    /* The bucket list is one variable, not one per bucket: it replaces the file's list. */
    const char *list = env_get(envp, "LAKEHOUSE_BUCKETS");
    if (list && lh_config_set_buckets(&next, list, err) != 0) {
        lh_config_release(&next);
        return lh_err_prefix(err, "environment variable LAKEHOUSE_BUCKETS: ");
    }
    config_replace(c, &next);
    return 0;
}

static void put_setting(json_t *doc, const lh_config *c, const setting *s)
{
    const char *dot = strchr(s->key, '.');
    char section[32];
    snprintf(section, sizeof section, "%.*s", (int)(dot - s->key), s->key);
    json_t *table = json_object_get(doc, section);
    if (!table) {
        table = json_object();
        json_object_set_new(doc, section, table);
    }
    json_t *v = NULL;
    switch (s->kind) {
    case K_STRING: {
        const char *text = *FIELD_PTR(c, s, char *const);
        /* A secret shows only whether it is set, never its value. */
        v = json_string(s->secret && text && *text ? "***" : text);
        break;
    }
    case K_INT: v = json_integer(*FIELD_PTR(c, s, const int)); break;
    case K_REAL: v = json_real(*FIELD_PTR(c, s, const double)); break;
    case K_COUNT:
    case K_SIZE: v = json_integer(*FIELD_PTR(c, s, const int64_t)); break;
    case K_LISTEN: {
        char *text = strchr(c->listen_host, ':')
                         ? lh_xasprintf("[%s]:%d", c->listen_host, c->listen_port)
                         : lh_xasprintf("%s:%d", c->listen_host, c->listen_port);
        v = json_string(text);
        free(text);
        break;
    }
    }
    json_object_set_new(table, dot + 1, v);
}

json_t *lh_config_to_json(const lh_config *c)
{
    json_t *doc = json_object();
    for (size_t i = 0; i < LH_ARRAY_LEN(settings); i++)
        put_setting(doc, c, &settings[i]);
    json_object_set_new(doc, "buckets", lh_config__buckets_json(c));
    return doc;
}

int lh_config_load(lh_config *c, const char *path, lh_err *err)
{
    lh_config_init(c);
    int rc;
    const char *env_path = getenv("LAKEHOUSE_CONFIG");
    if (path && *path)
        rc = lh_config_load_file(c, path, true, err);
    else if (env_path && *env_path)
        rc = lh_config_load_file(c, env_path, true, err);
    else
        rc = lh_config_load_file(c, "lakehouse.toml", false, err);
    if (rc == 0)
        rc = lh_config_apply_env(c, NULL, err);
    if (rc < 0) {
        lh_config_release(c);
        lh_config_init(c);
    }
    return rc;
}
