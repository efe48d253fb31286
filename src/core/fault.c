/* Fault injection for tests: LH_FAULT="alloc:N,write:N,commit:N,crash:POINT" makes the Nth
 * operation of a kind fail, or the process exit at a named point, so tests can prove that a
 * failure at any step leaves no partial state. Cheap when LH_FAULT is unset. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

#define MAX_FAULTS 8

static struct {
    pthread_mutex_t mu;
    bool loaded;
    size_t n;
    struct {
        char kind[16];
        char arg[64];
        long nth;
        atomic_long count;
    } f[MAX_FAULTS];
} faults = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_bool any_fault;

static void load_locked(void)
{
    faults.n = 0;
    faults.loaded = true;
    const char *spec = getenv("LH_FAULT");
    if (!spec || !*spec) {
        atomic_store(&any_fault, false);
        return;
    }
    char copy[512];
    snprintf(copy, sizeof copy, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && faults.n < MAX_FAULTS;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon)
            continue;
        *colon = '\0';
        size_t i = faults.n++;
        snprintf(faults.f[i].kind, sizeof faults.f[i].kind, "%s", tok);
        snprintf(faults.f[i].arg, sizeof faults.f[i].arg, "%s", colon + 1);
        faults.f[i].nth = strtol(colon + 1, NULL, 10);
        atomic_store(&faults.f[i].count, 0);
    }
    atomic_store(&any_fault, faults.n > 0);
}

static void ensure_loaded(void)
{
    pthread_mutex_lock(&faults.mu);
    if (!faults.loaded)
        load_locked();
    pthread_mutex_unlock(&faults.mu);
}

void lh_fault_reset(void)
{
    pthread_mutex_lock(&faults.mu);
    load_locked();
    pthread_mutex_unlock(&faults.mu);
}

bool lh_fault_hit(const char *kind)
{
    static atomic_bool checked;
    if (!atomic_load_explicit(&checked, memory_order_acquire)) {
        ensure_loaded();
        atomic_store_explicit(&checked, true, memory_order_release);
    }
    if (!atomic_load_explicit(&any_fault, memory_order_relaxed))
        return false;
    for (size_t i = 0; i < faults.n; i++) {
        if (strcmp(faults.f[i].kind, kind) != 0 || faults.f[i].nth <= 0)
            continue;
        if (atomic_fetch_add(&faults.f[i].count, 1) + 1 == faults.f[i].nth)
            return true;
    }
    return false;
}

void lh_fault_point(const char *point)
{
    ensure_loaded();
    if (!atomic_load(&any_fault))
        return;
    for (size_t i = 0; i < faults.n; i++) {
        if (strcmp(faults.f[i].kind, "crash") == 0 && strcmp(faults.f[i].arg, point) == 0) {
            static const char msg[] = "lakehouse: injected crash\n";
            (void)!write(2, msg, sizeof msg - 1);
            _exit(99);
        }
    }
}
