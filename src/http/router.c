/* The router: matches a decoded request path against the patterns of the route table
 * (routes.c) and tells "no such path" (404) apart from "no such method here" (405).
 * Patterns are '/'-separated literals, {param} segments and a final {rest...} segment.
 * Pure string work, no allocation, so it is unit-tested without a socket. */
#include <string.h>

#include "http/http_int.h"

static bool seg_is_param(const char *seg, size_t len, bool *rest)
{
    if (len < 3 || seg[0] != '{' || seg[len - 1] != '}')
        return false;
    *rest = len > 5 && memcmp(seg + len - 4, "...}", 4) == 0;
    return true;
}

static bool add_param(lh_http_match *m, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    /* A pattern with more parameters than we hold is a programming error in routes.c. */
    LH_ASSERT(m->nparams < LH_HTTP_MAX_PARAMS);
    m->params[m->nparams++] = (lh_http_param){name, name_len, value, value_len};
    return true;
}

/* Matches one pattern; fills m->params on success (and leaves junk in it on failure). */
static bool match_pattern(const char *pat, const char *path, lh_http_match *m)
{
    m->nparams = 0;
    if (pat[0] != '/' || path[0] != '/')
        return false;
    if (pat[1] == '\0') /* "/" itself: the root, and only the root */
        return path[1] == '\0';
    const char *p = pat;
    const char *q = path;
    for (;;) {
        p++; /* both sit on a '/' here */
        q++;
        const char *pe = strchr(p, '/');
        if (!pe)
            pe = p + strlen(p);
        bool rest = false;
        if (seg_is_param(p, (size_t)(pe - p), &rest) && rest) {
            /* {name...}: the remainder, verbatim, at least one byte. Key validation (empty
             * segments, "..") belongs to the handler, which can say what is wrong. */
            size_t len = strlen(q);
            if (len == 0)
                return false;
            return add_param(m, p + 1, (size_t)(pe - p) - 5, q, len);
        }
        const char *qe = strchr(q, '/');
        if (!qe)
            qe = q + strlen(q);
        size_t seg_len = (size_t)(qe - q);
        if (seg_len == 0)
            return false; /* "//" or a path that ended early */
        if (seg_is_param(p, (size_t)(pe - p), &rest)) {
            if (!add_param(m, p + 1, (size_t)(pe - p) - 2, q, seg_len))
                return false;
        } else if ((size_t)(pe - p) != seg_len || memcmp(p, q, seg_len) != 0) {
            return false;
        }
        p = pe;
        q = qe;
        if (*p == '\0')
            return *q == '\0' || (q[0] == '/' && q[1] == '\0'); /* one trailing '/' is fine */
        if (*q == '\0')
            return false;
    }
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t len = strlen(allow);
    size_t mlen = strlen(method);
    /* Already listed? Methods are short tokens, so a substring search with separators is
     * exact enough: check ", M" boundaries explicitly. */
    const char *at = allow;
    while ((at = strstr(at, method)) != NULL) {
        bool starts = at == allow || at[-1] == ' ';
        bool ends = at[mlen] == '\0' || at[mlen] == ',';
        if (starts && ends)
            return;
        at += mlen;
    }
    if (len + mlen + 3 > cap)
        return; /* cannot happen with our table; an incomplete Allow is still correct */
    if (len > 0) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, mlen + 1);
}

lh_code lh_http__route_match(const lh_http_route *table, size_t n, const char *method,
                             const char *path, lh_http_match *m)
{
    memset(m, 0, sizeof *m);
    bool head = strcmp(method, "HEAD") == 0;
    bool path_known = false;
    for (size_t i = 0; i < n; i++) {
        const lh_http_route *r = &table[i];
        lh_http_match tmp;
        memset(&tmp, 0, sizeof tmp);
        if (!match_pattern(r->pattern, path, &tmp))
            continue;
        if (strcmp(r->method, method) == 0 || (head && strcmp(r->method, "GET") == 0)) {
            char allow_keep[sizeof m->allow];
            memcpy(allow_keep, m->allow, sizeof allow_keep);
            *m = tmp;
            memcpy(m->allow, allow_keep, sizeof allow_keep);
            m->route = r;
            return LH_OK;
        }
        path_known = true;
        allow_add(m->allow, sizeof m->allow, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(m->allow, sizeof m->allow, "HEAD");
    }
    if (!path_known) {
        m->allow[0] = '\0';
        return LH_NOT_FOUND;
    }
    return LH_METHOD_NOT_ALLOWED;
}
