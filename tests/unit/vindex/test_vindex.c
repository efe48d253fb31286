/* Tests for the index service (src/vindex) and its DuckDB glue (src/query/vector_glue*.c):
 * embeddings files written and read back, a build job end to end (progress record, search,
 * vector_search in SQL), an incremental update, and an index whose hnsw.bin was damaged
 * while closed (rebuilt from the embeddings), or whose embeddings are gone too (corrupt). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vindex/vindex.h"

static char g_dir[64];
static lh_config g_cfg;
static lh_lake *g_lake;
static lh_jobs *g_jobs;
static lh_vindex *g_vx;

static void open_services(void) {
    lh_err err = LH_ERR_INIT;
    g_jobs = lh_jobs_open(lh_storage_bucket(g_lake->storage, "primary", &err), 1, &err);
    cr_assert_not_null(g_jobs, "%s", err.message);
    g_vx = lh_vindex_open(g_lake, g_jobs, &g_cfg, &err);
    cr_assert_not_null(g_vx, "%s", err.message);
    cr_assert_eq(lh_jobs_start(g_jobs, &err), 0, "%s", err.message);
}

static void close_services(void) {
    lh_jobs_close(g_jobs);
    lh_vindex_close(g_vx);
    g_jobs = NULL;
    g_vx = NULL;
}

static void setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/lhvx-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    lh_config_init(&g_cfg);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_config_set(&g_cfg, "server.data_dir", g_dir, &err), 0);
    cr_assert_eq(lh_config_set(&g_cfg, "vector.exact_below", "10", &err), 0);
    g_lake = lh_lake_open(&g_cfg, &err);
    cr_assert_not_null(g_lake, "%s", err.message);
    open_services();
}

static void teardown(void) {
    close_services();
    lh_lake_close(g_lake);
    lh_config_release(&g_cfg);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0);
}

TestSuite(vindex, .init = setup, .fini = teardown, .timeout = 120);

/* Appends csv to dataset name (created on first use). */
static void add_csv(const char *name, const char *csv) {
    char *src = lh_storage_scratch_path(g_lake->storage, ".csv");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f);
    fputs(csv, f);
    fclose(f);
    char *dst = lh_storage_scratch_path(g_lake->storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(g_lake->engine, src, NULL, dst, &cols, &ncols, &rows,
                                          &err), 0, "%s", err.message);
    lh_add_file af = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli", .file_name = "t.csv",
                           .schema_mode = LH_SCHEMA_EXACT};
    cr_assert_eq(lh_catalog_add_files(g_lake->catalog, name, cols, ncols, &af, 1, &info, NULL,
                                      &err), 0, "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

static const char *const WORDS[] = {"python", "java", "welding", "nursing", "sales", "excel",
                                    "spark", "kubernetes", "payroll", "forklift"};

static void add_people(const char *name, int from, int n) {
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "id,text\n");
    for (int i = from; i < from + n; i++)
        lh_buf_printf(&b, "p%d,worker skilled in %s and %s number %d\n", i, WORDS[i % 10],
                      WORDS[(i * 7 + 3) % 10], i);
    add_csv(name, b.data);
    lh_buf_release(&b);
}

/* Submits a build and waits for it; returns the job record. */
static json_t *build(const char *json) {
    lh_err err = LH_ERR_INIT;
    json_t *req = lh_json_parse(json, strlen(json), &err);
    cr_assert_not_null(req, "%s", err.message);
    char id[37];
    char *name = NULL;
    cr_assert_eq(lh_vindex_submit(g_vx, req, id, &name, &err), 0, "%s", err.message);
    json_decref(req);
    free(name);
    cr_assert_eq(lh_jobs_wait(g_jobs, id, 60000, &err), 0, "%s", err.message);
    json_t *rec = lh_jobs_get(g_jobs, id, &err);
    cr_assert_not_null(rec);
    return rec;
}

static json_t *search(const char *index, const char *text, bool exact, lh_err *err) {
    json_t *req = json_pack("{s:s, s:s, s:i, s:b}", "index", index, "query", text, "k", 3,
                            "exact", exact);
    json_t *res = lh_vindex_search(g_vx, req, err);
    json_decref(req);
    return res;
}

static const char *top_doc(const json_t *res) {
    return json_string_value(json_object_get(json_array_get(json_object_get(res, "hits"), 0),
                                             "doc_id"));
}

Test(vindex, embeddings_round_trip) {
    const char *ids[3] = {"a", "b", "c"};
    int32_t cids[3] = {0, 1, 0};
    const char *chunks[3] = {"alpha", "\xc3\xa9t\xc3\xa9 beta", ""};
    size_t lens[3] = {5, 10, 0};
    int64_t st[3] = {0, 6, 0}, en[3] = {5, 16, 0};
    float vecs[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0.5f, 0.5f, 0, -1};
    lh_emb_rows rows = {.n = 3, .dims = 4, .doc_ids = ids, .chunk_ids = cids, .chunks = chunks,
                        .chunk_lens = lens, .starts = st, .ends = en, .vectors = vecs};
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(g_lake->storage, "primary", &err);
    cr_assert_eq(lh_engine_write_embeddings(g_lake->engine, &rows, b, "_vectors/t/e.parquet",
                                            &err), 0, "%s", err.message);
    lh_emb_data d;
    cr_assert_eq(lh_engine_read_embeddings(g_lake->engine, b, "_vectors/t/e.parquet", 4, true, &d,
                                           &err), 0, "%s", err.message);
    cr_assert_eq(d.n, 3);
    cr_assert_eq(d.dims, 4);
    cr_assert_str_eq(d.doc_ids[1], "b");
    cr_assert_eq(d.chunk_ids[1], 1);
    cr_assert_str_eq(d.snippets[1], "\xc3\xa9t"); /* 4 bytes would split the second é */
    cr_assert_eq(memcmp(d.vectors, vecs, sizeof vecs), 0);
    lh_emb_data_release(&d);
    cr_assert_eq(lh_engine_read_embeddings(g_lake->engine, b, "_vectors/t/none.parquet", 3, true,
                                           &d, &err), -1);
    cr_assert_eq(err.code, LH_NOT_FOUND);
}

Test(vindex, build_search_sql_and_incremental) {
    add_people("people", 0, 40);
    json_t *rec = build("{\"dataset\":\"people\",\"text_column\":\"text\",\"id_column\":\"id\","
                        "\"index\":\"ppl\",\"batch_rows\":16}");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "state")), "succeeded");
    const json_t *res = json_object_get(rec, "result");
    cr_assert_eq(json_integer_value(json_object_get(res, "chunks")), 40);
    json_decref(rec);
    lh_err err = LH_ERR_INIT;
    json_t *hits = search("ppl", "java welding number 17", false, &err);
    cr_assert_not_null(hits, "%s", err.message);
    cr_assert_str_eq(top_doc(hits), "p17");
    json_decref(hits);

    lh_query_req q = {.sql = "SELECT doc_id, rank FROM vector_search('ppl', 'number 23', 2)"};
    json_t *doc = lh_query_json(g_lake->engine, &q, &err);
    cr_assert_not_null(doc, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(doc, "rows"),
                                                                     0), 0)), "p23");
    json_decref(doc);

    add_people("people", 100, 5);
    rec = build("{\"dataset\":\"people\",\"text_column\":\"text\",\"id_column\":\"id\","
                "\"index\":\"ppl\"}");
    res = json_object_get(rec, "result");
    cr_assert_str_eq(json_string_value(json_object_get(res, "mode")), "incremental");
    cr_assert_eq(json_integer_value(json_object_get(res, "new_rows")), 5);
    cr_assert_eq(json_integer_value(json_object_get(res, "chunks")), 45);
    json_decref(rec);
    hits = search("ppl", "number 103", true, &err);
    cr_assert_str_eq(top_doc(hits), "p103");
    json_decref(hits);
}

Test(vindex, corrupt_graph_is_rebuilt_or_refused) {
    add_people("cc", 0, 30);
    json_decref(build("{\"dataset\":\"cc\",\"text_column\":\"text\",\"id_column\":\"id\","
                      "\"index\":\"cc\"}"));
    close_services();
    char *path = lh_xasprintf("%s/buckets/primary/_vectors/cc/hnsw.bin", g_dir);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 200, SEEK_SET);
    fputs("garbage!", f);
    fclose(f);
    open_services();
    lh_err err = LH_ERR_INIT;
    json_t *hits = search("cc", "number 12", false, &err);
    cr_assert_not_null(hits, "%s", err.message);
    cr_assert_str_eq(top_doc(hits), "p12");
    json_decref(hits);

    close_services();
    cr_assert_eq(truncate(path, 10), 0);
    char *emb = lh_xasprintf("%s/buckets/primary/_vectors/cc/embeddings-00000.parquet", g_dir);
    cr_assert_eq(unlink(emb), 0);
    open_services();
    hits = search("cc", "number 12", false, &err);
    cr_assert_null(hits);
    cr_assert_eq(err.code, LH_CORRUPT);
    free(emb);
    free(path);
}
