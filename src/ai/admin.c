/* ai admin: model load/unload on the [generate] server and what it holds in memory, plus GPU
 * memory from nvidia-smi when the machine has it. nvidia-smi runs with a fixed argv through
 * posix_spawnp (no shell, nothing from the request on its command line), stdin and stderr on
 * /dev/null, its output bounded, and killed after a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ai/ai_int.h"

#define SMI_TIMEOUT_MS 5000
#define SMI_OUTPUT_MAX 8192

extern char **environ;

static const char *model_arg(lh_ai *ai, const json_t *req, lh_err *err)
{
    lh_err e = LH_ERR_INIT;
    const char *m = req ? lh_json_str(req, "model", false, &e) : NULL;
    if (e.code != LH_OK) {
        *err = e;
        return NULL;
    }
    if (m && strlen(m) > 256) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'model' is longer than 256 bytes");
        return NULL;
    }
    return m && *m ? m : lh_llm_model(ai->llm);
}

static json_t *load_or_unload(lh_ai *ai, const json_t *req, bool load, lh_err *err)
{
    if (lh_ai__need_llm(ai, err) != 0)
        return NULL;
    const char *model = model_arg(ai, req, err);
    if (!model)
        return NULL;
    int rc = load ? lh_llm_load(ai->llm, model, err) : lh_llm_unload(ai->llm, model, err);
    if (rc != 0)
        return NULL;
    return json_pack("{s:s, s:b}", "model", model, "loaded", load);
}

json_t *lh_ai_preload(lh_ai *ai, const json_t *req, lh_err *err)
{
    return load_or_unload(ai, req, true, err);
}

json_t *lh_ai_unload(lh_ai *ai, const json_t *req, lh_err *err)
{
    return load_or_unload(ai, req, false, err);
}

/* Runs nvidia-smi and collects its stdout. 1 when the program does not exist, 0 on
 * success, -1 with *why on another failure. */
static int run_smi(char *out, size_t cap, size_t *len, const char **why)
{
    char *const argv[] = {"nvidia-smi", "--query-gpu=memory.used,memory.total",
                          "--format=csv,noheader,nounits", NULL};
    int fds[2];
    if (pipe(fds) != 0) {
        *why = "cannot create a pipe";
        return -1;
    }
    /* Other threads may spawn too: neither end must leak into their children. */
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "nvidia-smi", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        if (rc == ENOENT || rc == EACCES)
            return 1;
        *why = "nvidia-smi could not be started";
        return -1;
    }
    double deadline = lh_mono_ms() + SMI_TIMEOUT_MS;
    *len = 0;
    bool timed_out = false;
    for (;;) {
        int left = (int)(deadline - lh_mono_ms());
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int pr = poll(&p, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char tmp[1024];
        ssize_t n = read(fds[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t room = cap - 1 - *len;
        size_t take = (size_t)n < room ? (size_t)n : room; /* the rest is dropped */
        memcpy(out + *len, tmp, take);
        *len += take;
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out[*len] = '\0';
    if (timed_out) {
        *why = "nvidia-smi did not answer within 5 s";
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* The shell convention for "command not found" when exec itself failed. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            return 1;
        *why = "nvidia-smi failed (no NVIDIA driver?)";
        return -1;
    }
    return 0;
}

/* "used, total" per line (MiB) -> {"gpus": [...]}; NULL when a line does not parse. */
static json_t *parse_smi(const char *text)
{
    json_t *gpus = json_array();
    size_t index = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        char *end;
        errno = 0;
        long long used = strtoll(buf, &end, 10);
        bool ok = end != buf && *end == ',' && errno == 0;
        long long total = ok ? strtoll(end + 1, &end, 10) : 0;
        while (ok && (*end == ' ' || *end == '\r'))
            end++;
        ok = ok && *end == '\0' && errno == 0 && used >= 0 && total >= 0;
        if (len > 0 && !ok) {
            json_decref(gpus);
            return NULL;
        }
        if (len > 0)
            json_array_append_new(gpus, json_pack("{s:I, s:I, s:I}", "index",
                                                  (json_int_t)index++, "memory_used_mib",
                                                  (json_int_t)used, "memory_total_mib",
                                                  (json_int_t)total));
        line = nl ? nl + 1 : line + len;
    }
    return json_pack("{s:o}", "gpus", gpus);
}

json_t *lh_ai_vram(lh_ai *ai, lh_err *err)
{
    json_t *doc = json_object();
    if (ai->llm) {
        json_t *models = lh_llm_loaded(ai->llm, err);
        if (!models) {
            json_decref(doc);
            return NULL;
        }
        json_object_set_new(doc, "models", models);
    } else {
        json_object_set_new(doc, "models", json_null());
        json_object_set_new(doc, "models_note",
                            json_string("no generation model is configured ([generate])"));
    }
    char out[SMI_OUTPUT_MAX];
    size_t len = 0;
    const char *why = NULL;
    int rc = run_smi(out, sizeof out, &len, &why);
    json_t *gpu = rc == 0 ? parse_smi(out) : NULL;
    if (rc == 0 && !gpu)
        why = "nvidia-smi printed something that is not memory.used, memory.total";
    json_object_set_new(doc, "gpu", gpu ? gpu : json_null());
    if (!gpu)
        json_object_set_new(doc, "gpu_note",
                            json_string(rc == 1 ? "nvidia-smi not available" : why));
    return doc;
}
