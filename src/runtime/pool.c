/* The thread pool. A job is (fn, arg, n); the caller works on it too. Task
 * ranges are static first: thread i owns [i*n/T, (i+1)*n/T) and takes its
 * own tasks from its own counter, then steals from the others' ranges. The
 * kernels order their tasks row-major, so in every layer a thread computes
 * the same rows and mostly reads what it wrote itself (on this VM a line
 * written by the other vCPU can cost a cross-die transfer), and no counter
 * is shared while there is own work. Between jobs a worker spins for a short while
 * on the job generation before sleeping on a condition variable, because a
 * network runs one job per layer back to back and a futex wake-up per job
 * (tens of microseconds) would cost more than a small layer's work. */
#include "runtime/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* spin iterations before sleeping (about 50-100 us) and before yielding */
enum { SPIN_SLEEP = 20000, SPIN_YIELD = 2000 };

/* a thread's task range, on its own cache line */
typedef struct range {
    _Alignas(64) atomic_int_fast64_t next;
    int64_t end;
} range;

struct rt_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint_fast64_t generation; /* bumped per job; workers wait for a new one */
    atomic_bool stop;
    rt_task_fn fn; /* written before the generation bump, read after it */
    void *arg;
    int64_t ntasks;
    range *ranges;   /* one per thread */
    atomic_int busy; /* workers still in the current job */
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Own range first, then the others' (owner and thief take from the same
 * counter, so no task runs twice). */
static void work(rt_pool *p, rt_task_fn fn, void *arg, int thread) {
    for (int k = 0; k < p->threads; k++) {
        range *r = &p->ranges[(thread + k) % p->threads];
        for (;;) {
            int64_t t = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
            if (t >= r->end) break;
            fn(arg, t, thread);
        }
    }
}

typedef struct start {
    rt_pool *p;
    int thread;
} start;

static void *worker(void *v) {
    start *st = v;
    rt_pool *p = st->p;
    int thread = st->thread;
    free(st);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = atomic_load_explicit(&p->generation, memory_order_acquire);
        for (int i = 0; g == seen && i < SPIN_SLEEP && !atomic_load(&p->stop); i++) {
            relax();
            g = atomic_load_explicit(&p->generation, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while (!atomic_load(&p->stop) &&
                   (g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = g;
        work(p, p->fn, p->arg, thread);
        atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
    }
    return NULL;
}

rt_pool *rt_pool_new(int threads) {
    if (threads < 1) threads = 1;
    rt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    p->ranges = aligned_alloc(64, sizeof(range) * (size_t)threads);
    if (!p->ranges) {
        free(p);
        return NULL;
    }
    for (int i = 0; i < threads; i++) atomic_init(&p->ranges[i].next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->stop, false);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->ranges);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    if (threads > 1) {
        p->tid = calloc((size_t)threads - 1, sizeof *p->tid);
        if (!p->tid) {
            rt_pool_free(p);
            return NULL;
        }
        for (int i = 0; i < threads - 1; i++) {
            start *a = malloc(sizeof *a);
            if (a) *a = (start){p, i + 1};
            if (!a || pthread_create(&p->tid[i], NULL, worker, a) != 0) {
                free(a);
                p->threads = i + 1; /* the ones that started are joined on free */
                break;
            }
        }
    }
    return p;
}

void rt_pool_free(rt_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; p->tid && i < p->threads - 1; i++) pthread_join(p->tid[i], NULL);
    free(p->tid);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->ranges);
    free(p);
}

int rt_pool_threads(const rt_pool *p) {
    return p ? p->threads : 1;
}

void rt_pool_run(rt_pool *p, int64_t ntasks, rt_task_fn fn, void *arg) {
    if (ntasks <= 0) return;
    if (!p || p->threads == 1 || ntasks == 1) {
        for (int64_t t = 0; t < ntasks; t++) fn(arg, t, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->ntasks = ntasks;
    for (int i = 0; i < p->threads; i++) {
        atomic_store_explicit(&p->ranges[i].next, ntasks * i / p->threads, memory_order_relaxed);
        p->ranges[i].end = ntasks * (i + 1) / p->threads;
    }
    atomic_store_explicit(&p->busy, p->threads - 1, memory_order_relaxed);
    /* publish the job; sleeping workers are woken under the mutex so that
     * none can miss the bump between its check and its wait */
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, fn, arg, 0);
    for (int i = 0; atomic_load_explicit(&p->busy, memory_order_acquire) > 0; i++) {
        if (i < SPIN_YIELD)
            relax();
        else
            sched_yield();
    }
}
