/* The HNSW file format: atomic save, mmap load with full validation, and the copy off the map
 * that the first add on a loaded index makes. Sits under vindex, which keeps hnsw.bin per index.
 *
 * Layout (little-endian): a 128-byte header; the layer-0 node blocks exactly as in memory
 * (64-aligned, count * node_size bytes), so a mapped file is searched in place; the upper-layer
 * blocks of nodes with level > 0 in id order (level * (M + 1) uint32 each); an 8-byte checksum
 * of everything before it. Loading trusts nothing: sizes against the file, the checksum, then
 * every count, level and link, so a forged file with a valid checksum cannot steer a search
 * out of bounds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/hnsw_int.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the hnsw file format is little-endian and mapped in place"
#endif

#define MAGIC "LHHNSW01"
#define VERSION 1u
#define HEADER_BYTES 128u
#define SUM_BYTES 8u

typedef struct file_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t metric;
    uint32_t M;
    uint32_t ef_construction;
    uint32_t dim;
    uint64_t seed;
    uint64_t count;
    uint32_t max_level;
    uint32_t entry_point;
    uint64_t node_size;
    uint64_t nodes_offset;
    uint64_t nodes_bytes;
    uint64_t upper_offset;
    uint64_t upper_bytes;
    uint64_t file_size;
    uint8_t reserved[24];
} file_header;

_Static_assert(sizeof(file_header) == HEADER_BYTES, "hnsw header is 128 bytes");

/* ---- checksum --------------------------------------------------------------------------- */

#define SUM_MUL 0x9E3779B97F4A7C15ull

/* For a fixed word this is a bijection of v (xor, multiply by an odd constant, xorshift), so
 * a changed word always leaves a changed lane. */
static inline uint64_t sum_round(uint64_t v, uint64_t w)
{
    v ^= w;
    v *= SUM_MUL;
    return v ^ (v >> 29);
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

void lh_hnsw__sum_init(lh_hnsw__sum *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 4; i++)
        s->v[i] = 0x243F6A8885A308D3ull * (uint64_t)(2 * i + 1);
}

static void sum_stripes(lh_hnsw__sum *s, const unsigned char *p, size_t stripes)
{
    uint64_t a = s->v[0], b = s->v[1], c = s->v[2], d = s->v[3];
    for (size_t i = 0; i < stripes; i++, p += 32) {
        a = sum_round(a, rd64(p));
        b = sum_round(b, rd64(p + 8));
        c = sum_round(c, rd64(p + 16));
        d = sum_round(d, rd64(p + 24));
    }
    s->v[0] = a, s->v[1] = b, s->v[2] = c, s->v[3] = d;
}

void lh_hnsw__sum_update(lh_hnsw__sum *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->buflen) {
        size_t take = 32 - s->buflen < n ? 32 - s->buflen : n;
        memcpy(s->buf + s->buflen, p, take);
        s->buflen += take;
        p += take;
        n -= take;
        if (s->buflen < 32)
            return;
        sum_stripes(s, s->buf, 1);
        s->buflen = 0;
    }
    sum_stripes(s, p, n / 32);
    p += n / 32 * 32;
    n %= 32;
    memcpy(s->buf, p, n);
    s->buflen = n;
}

uint64_t lh_hnsw__sum_final(const lh_hnsw__sum *s)
{
    lh_hnsw__sum t = *s;
    if (t.buflen) {
        memset(t.buf + t.buflen, 0, 32 - t.buflen);
        sum_stripes(&t, t.buf, 1);
    }
    uint64_t h = t.total;
    for (int i = 0; i < 4; i++)
        h = sum_round(h, t.v[i]);
    h ^= h >> 33;
    h *= 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 31);
}

uint64_t lh_hnsw__checksum(const void *p, size_t n)
{
    lh_hnsw__sum s;
    lh_hnsw__sum_init(&s);
    lh_hnsw__sum_update(&s, p, n);
    return lh_hnsw__sum_final(&s);
}

/* ---- save ------------------------------------------------------------------------------- */

typedef struct writer {
    int fd;
    lh_hnsw__sum sum;
    lh_buf buf;
} writer;

static int w_flush(writer *w, lh_err *err)
{
    if (w->buf.len && lh_write_full(w->fd, w->buf.data, w->buf.len, err) != 0)
        return -1;
    lh_buf_reset(&w->buf);
    return 0;
}

/* Small pieces are gathered; big ones (node chunks) go straight to the file. */
static int w_put(writer *w, const void *p, size_t n, lh_err *err)
{
    lh_hnsw__sum_update(&w->sum, p, n);
    if (n >= ((size_t)1 << 16)) {
        if (w_flush(w, err) != 0)
            return -1;
        return lh_write_full(w->fd, p, n, err);
    }
    lh_buf_append(&w->buf, p, n);
    return w->buf.len >= ((size_t)1 << 20) ? w_flush(w, err) : 0;
}

static int write_body(const lh_hnsw *h, writer *w, const file_header *hd, lh_err *err)
{
    size_t per = (size_t)1 << h->shift;
    if (w_put(w, hd, sizeof *hd, err) != 0)
        return -1;
    for (uint64_t base = 0; base < hd->count; base += per) {
        size_t n = hd->count - base < per ? (size_t)(hd->count - base) : per;
        if (w_put(w, lh_hnsw__node(h, (uint32_t)base), n * h->node_size, err) != 0)
            return -1;
    }
    for (uint64_t id = 0; id < hd->count; id++) {
        unsigned level = lh_hnsw__level(h, lh_hnsw__node(h, (uint32_t)id));
        if (level && w_put(w, *lh_hnsw__upper_slot(h, (uint32_t)id),
                           (size_t)level * (h->M + 1) * sizeof(uint32_t), err) != 0)
            return -1;
    }
    uint64_t sum = lh_hnsw__sum_final(&w->sum);
    lh_buf_append(&w->buf, &sum, sizeof sum);
    if (w_flush(w, err) != 0)
        return -1;
    if (fsync(w->fd) != 0)
        return lh_err_errno(err, errno, "cannot fsync");
    return 0;
}

int lh_hnsw_save(const lh_hnsw *h, const char *path, lh_err *err)
{
    if (!h || !path)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw save: no index or path");
    file_header hd;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.magic, MAGIC, 8);
    hd.version = VERSION;
    hd.header_size = HEADER_BYTES;
    hd.metric = (uint32_t)h->p.metric;
    hd.M = h->M;
    hd.ef_construction = (uint32_t)h->p.ef_construction;
    hd.dim = (uint32_t)h->dim;
    hd.seed = h->p.seed;
    hd.count = lh_hnsw_count(h);
    uint64_t top = atomic_load_explicit(&((lh_hnsw *)h)->top, memory_order_acquire);
    hd.entry_point = (uint32_t)top;
    hd.max_level = (uint32_t)(top >> 32);
    hd.node_size = h->node_size;
    hd.nodes_offset = HEADER_BYTES;
    hd.nodes_bytes = hd.count * h->node_size;
    hd.upper_offset = hd.nodes_offset + hd.nodes_bytes;
    for (uint64_t id = 0; id < hd.count; id++)
        hd.upper_bytes += (uint64_t)lh_hnsw__level(h, lh_hnsw__node(h, (uint32_t)id)) *
                          (h->M + 1) * sizeof(uint32_t);
    hd.file_size = hd.upper_offset + hd.upper_bytes + SUM_BYTES;

    static atomic_uint seq;
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
                     atomic_fetch_add(&seq, 1));
    if (n < 0 || (size_t)n >= sizeof tmp)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw save: path too long: '%s'", path);
    writer w = {.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
    if (w.fd < 0)
        return lh_err_errno(err, errno, "cannot create '%s'", tmp);
    lh_hnsw__sum_init(&w.sum);
    lh_buf_init(&w.buf);
    int rc = write_body(h, &w, &hd, err);
    lh_buf_release(&w.buf);
    if (close(w.fd) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot close '%s'", tmp);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = lh_err_errno(err, errno, "cannot rename '%s' to '%s'", tmp, path);
    if (rc != 0) {
        (void)unlink(tmp); /* best effort: the temp name never replaces the real file */
        return lh_err_prefix(err, "hnsw save '%s': ", path);
    }
    if (lh_fsync_dir_of(path, err) != 0)
        return lh_err_prefix(err, "hnsw save '%s': ", path);
    return 0;
}

/* ---- load ------------------------------------------------------------------------------- */

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Header fields against each other and the file size; fills *p. */
static int check_header(const file_header *hd, uint64_t size, lh_hnsw_params *p, lh_err *err)
{
    if (memcmp(hd->magic, MAGIC, 8) != 0)
        return lh_err_set(err, LH_CORRUPT, "not an hnsw index file (bad magic)");
    if (hd->version != VERSION)
        return lh_err_set(err, LH_CORRUPT, "unsupported hnsw format version %u", hd->version);
    if (hd->header_size != HEADER_BYTES)
        return lh_err_set(err, LH_CORRUPT, "bad header size %u", hd->header_size);
    for (size_t i = 0; i < sizeof hd->reserved; i++)
        if (hd->reserved[i])
            return lh_err_set(err, LH_CORRUPT, "reserved header bytes are not zero");
    if (hd->file_size != size)
        return lh_err_set(err, LH_CORRUPT, "file is %llu bytes, header says %llu (truncated?)",
                          (unsigned long long)size, (unsigned long long)hd->file_size);
    if (hd->metric > LH_METRIC_L2 || hd->M < 2 || hd->M > LH_HNSW__MAX_M ||
        hd->ef_construction < 1 || hd->ef_construction > LH_HNSW__MAX_EF || hd->dim < 1 ||
        hd->dim > LH_HNSW__MAX_DIM)
        return lh_err_set(err, LH_CORRUPT, "parameters out of range (metric %u, M %u, ef %u, "
                          "dim %u)", hd->metric, hd->M, hd->ef_construction, hd->dim);
    if (hd->count > LH_HNSW__MAX_COUNT || hd->max_level > LH_HNSW__MAX_LEVEL)
        return lh_err_set(err, LH_CORRUPT, "count %llu or max level %u out of range",
                          (unsigned long long)hd->count, hd->max_level);
    /* Each section must follow the previous exactly; the products cannot overflow since
     * count < 2^32 and node_size is bounded before it is multiplied. */
    if (hd->node_size == 0 || hd->node_size % 64 || hd->node_size > ((uint64_t)1 << 20) ||
        hd->nodes_offset != HEADER_BYTES || hd->nodes_bytes != hd->count * hd->node_size ||
        hd->upper_offset != hd->nodes_offset + hd->nodes_bytes ||
        hd->upper_bytes % ((uint64_t)(hd->M + 1) * 4) ||
        hd->upper_bytes > size || hd->upper_offset + hd->upper_bytes + SUM_BYTES != size)
        return lh_err_set(err, LH_CORRUPT, "section sizes do not add up to the file size");
    if (hd->count == 0 ? hd->entry_point != LH_HNSW__NONE || hd->max_level != 0
                       : hd->entry_point >= hd->count)
        return lh_err_set(err, LH_CORRUPT, "entry point %u is not a node", hd->entry_point);
    *p = (lh_hnsw_params){.M = (int)hd->M, .ef_construction = (int)hd->ef_construction,
                          .seed = hd->seed, .metric = (lh_metric)hd->metric};
    return 0;
}

/* Every node's layer-0 list and level; sums the upper blocks they claim. */
static int check_nodes(const lh_hnsw *h, const unsigned char *nodes, const file_header *hd,
                       uint64_t *upper_words, lh_err *err)
{
    unsigned top = 0;
    uint64_t words = 0;
    for (uint64_t id = 0; id < hd->count; id++) {
        const unsigned char *nd = nodes + id * h->node_size;
        const unsigned char *hdr = nd + h->links_off;
        uint32_t cnt = rd32(hdr);
        unsigned level = hdr[4];
        if (cnt > h->M0 || level > hd->max_level || hdr[5] || hdr[6] || hdr[7])
            return lh_err_set(err, LH_CORRUPT, "node %llu has a bad header (links %u, level %u)",
                              (unsigned long long)id, cnt, level);
        for (uint32_t i = 0; i < cnt; i++) {
            uint32_t to = rd32(hdr + LH_HNSW__HDR_BYTES + 4 * (size_t)i);
            if (to >= hd->count)
                return lh_err_set(err, LH_CORRUPT, "node %llu links to %u, past the count %llu",
                                  (unsigned long long)id, to, (unsigned long long)hd->count);
        }
        if (level > top)
            top = level;
        words += (uint64_t)level * (h->M + 1);
    }
    if (hd->count && (top != hd->max_level ||
                      nodes[hd->entry_point * h->node_size + h->links_off + 4] != top))
        return lh_err_set(err, LH_CORRUPT, "max level %u or the entry point's level is wrong",
                          hd->max_level);
    if (words * 4 != hd->upper_bytes)
        return lh_err_set(err, LH_CORRUPT, "upper-layer section is %llu bytes, nodes need %llu",
                          (unsigned long long)hd->upper_bytes, (unsigned long long)words * 4);
    *upper_words = words;
    return 0;
}

/* Points each node with upper levels at its block and checks every upper link: in range and
 * to a node that exists on that level (a search descends through it). */
static int link_upper(lh_hnsw *h, const unsigned char *nodes, const uint32_t *upper,
                      uint64_t count, lh_err *err)
{
    uint64_t at = 0;
    for (uint64_t id = 0; id < count; id++) {
        unsigned level = nodes[id * h->node_size + h->links_off + 4];
        if (!level)
            continue;
        const uint32_t *blk = upper + at;
        for (unsigned l = 1; l <= level; l++) {
            const unsigned char *lst = (const unsigned char *)(blk + (size_t)(l - 1) * (h->M + 1));
            uint32_t cnt = rd32(lst);
            if (cnt > h->M)
                return lh_err_set(err, LH_CORRUPT, "node %llu has %u links on level %u",
                                  (unsigned long long)id, cnt, l);
            for (uint32_t i = 0; i < cnt; i++) {
                uint32_t to = rd32(lst + 4 + 4 * (size_t)i);
                if (to >= count || nodes[(uint64_t)to * h->node_size + h->links_off + 4] < l)
                    return lh_err_set(err, LH_CORRUPT, "node %llu links on level %u to %u, "
                                      "which is not on that level", (unsigned long long)id, l, to);
            }
        }
        *lh_hnsw__upper_slot(h, (uint32_t)id) = (uint32_t *)blk;
        at += (uint64_t)level * (h->M + 1);
    }
    return 0;
}

/* Builds the chunk table over the mapped node blocks. */
static void map_table(lh_hnsw *h, unsigned char *nodes, uint64_t count)
{
    size_t per = (size_t)1 << h->shift;
    size_t nchunks = (size_t)((count + per - 1) / per);
    lh_hnsw__table *t = lh_hnsw__table_new(nchunks > 16 ? nchunks : 16);
    for (size_t i = 0; i < nchunks; i++) {
        t->chunks[i].nodes = nodes + (uint64_t)i * per * h->node_size;
        t->chunks[i].upper = lh_xcalloc(per, sizeof *t->chunks[i].upper);
    }
    free(atomic_load(&h->table)); /* the shell's empty table */
    atomic_store(&h->table, t);
    h->nchunks = nchunks;
    h->map_table = t;
    h->map_nchunks = nchunks;
}

static lh_hnsw *load_map(unsigned char *map, uint64_t size, lh_err *err)
{
    if (size < HEADER_BYTES + SUM_BYTES) {
        lh_err_set(err, LH_CORRUPT, "file is %llu bytes, too short for an hnsw index",
                   (unsigned long long)size);
        return NULL;
    }
    file_header hd;
    memcpy(&hd, map, sizeof hd);
    lh_hnsw_params p;
    if (check_header(&hd, size, &p, err) != 0)
        return NULL;
    if (rd64(map + size - SUM_BYTES) != lh_hnsw__checksum(map, size - SUM_BYTES)) {
        lh_err_set(err, LH_CORRUPT, "checksum mismatch (the file is damaged)");
        return NULL;
    }
    lh_err shell_err = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw__new_shell(hd.dim, &p, &shell_err);
    if (!h) {
        lh_err_set(err, LH_CORRUPT, "bad parameters: %s", shell_err.message);
        return NULL;
    }
    uint64_t words;
    if (h->node_size != hd.node_size) {
        lh_err_set(err, LH_CORRUPT, "node size %llu does not match dim %u and M %u",
                   (unsigned long long)hd.node_size, hd.dim, hd.M);
        goto fail;
    }
    unsigned char *nodes = map + hd.nodes_offset;
    if (check_nodes(h, nodes, &hd, &words, err) != 0)
        goto fail;
    map_table(h, nodes, hd.count);
    if (link_upper(h, nodes, (const uint32_t *)(map + hd.upper_offset), hd.count, err) != 0)
        goto fail;
    atomic_store(&h->count, hd.count);
    atomic_store(&h->top, lh_hnsw__top_pack(hd.entry_point, hd.max_level));
    h->mapped = true;
    return h;
fail:
    h->mapped = true; /* upper slots point into the map: free must not free them */
    lh_hnsw_free(h);
    return NULL;
}

lh_hnsw *lh_hnsw_load(const char *path, lh_err *err)
{
    if (!path) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw load: no path");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lh_err_errno(err, errno, "cannot open hnsw index '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lh_err_errno(err, errno, "cannot stat hnsw index '%s'", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < (off_t)(HEADER_BYTES + SUM_BYTES)) {
        close(fd);
        lh_err_set(err, LH_CORRUPT, "hnsw index '%s': %lld bytes, too short for an index",
                   path, (long long)st.st_size);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    /* Populated up front: the checksum reads every page anyway, and one bulk fault-in is far
     * cheaper than a page fault per 4 KiB. */
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) {
        lh_err_errno(err, saved, "cannot map hnsw index '%s'", path);
        return NULL;
    }
    lh_hnsw *h = load_map(map, size, err);
    if (!h) {
        munmap(map, size);
        lh_err_prefix(err, "hnsw index '%s': ", path);
        return NULL;
    }
    h->map = map;
    h->map_len = size;
    return h;
}

/* ---- copy off the map ------------------------------------------------------------------- */

int lh_hnsw__unmap_copy(lh_hnsw *h, lh_err *err)
{
    size_t per = (size_t)1 << h->shift;
    uint64_t count = atomic_load(&h->count);
    lh_hnsw__table *old = atomic_load(&h->table);
    lh_hnsw__table *t = lh_hnsw__table_new(old->cap);
    size_t bytes = per * h->node_size;
    size_t upper = 0;
    for (size_t i = 0; i < h->nchunks; i++) {
        void *raw;
        unsigned char *nodes = lh_hnsw__chunk_alloc(h, &raw);
        if (!nodes) {
            for (size_t j = 0; j < i; j++) {
                for (size_t k = 0; k < per; k++)
                    free(t->chunks[j].upper[k]);
                free(t->chunks[j].upper);
                free(t->chunks[j].raw);
            }
            free(t);
            return lh_err_set(err, LH_TOO_LARGE, "cannot allocate %zu bytes to copy the "
                              "loaded hnsw index", bytes);
        }
        lh_hnsw__chunk *ch = &t->chunks[i];
        ch->raw = raw;
        ch->nodes = nodes;
        ch->upper = lh_xcalloc(per, sizeof *ch->upper);
        uint64_t base = (uint64_t)i * per;
        size_t n = count - base < per ? (size_t)(count - base) : per;
        memcpy(ch->nodes, old->chunks[i].nodes, n * h->node_size);
        for (size_t k = 0; k < n; k++) {
            unsigned level = lh_hnsw__level(h, ch->nodes + k * h->node_size);
            if (!level)
                continue;
            size_t b = (size_t)level * (h->M + 1) * sizeof(uint32_t);
            ch->upper[k] = lh_xmalloc(b);
            memcpy(ch->upper[k], old->chunks[i].upper[k], b);
            upper += b;
        }
    }
    t->retired = old;
    atomic_fetch_add(&h->upper_bytes, upper);
    atomic_store_explicit(&h->table, t, memory_order_release);
    h->mapped = false;
    return 0;
}
