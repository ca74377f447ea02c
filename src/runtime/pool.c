/* The thread pool: workers sleep on a condition variable between jobs; a
 * job is (fn, arg, n) with an atomic next-task counter. */
#include "runtime/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct rt_pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation; /* bumped per job; workers wait for a new one */
    bool stop;
    rt_task_fn fn;
    void *arg;
    int64_t ntasks;
    atomic_int_fast64_t next;
    int busy; /* workers still in the current job */
};

static void work(rt_pool *p, rt_task_fn fn, void *arg, int64_t n) {
    for (;;) {
        int64_t t = atomic_fetch_add(&p->next, 1);
        if (t >= n) break;
        fn(arg, t);
    }
}

static void *worker(void *v) {
    rt_pool *p = v;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        rt_task_fn fn = p->fn;
        void *arg = p->arg;
        int64_t n = p->ntasks;
        pthread_mutex_unlock(&p->mu);
        work(p, fn, arg, n);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

rt_pool *rt_pool_new(int threads) {
    if (threads < 1) threads = 1;
    rt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    atomic_init(&p->next, 0);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->tid = calloc((size_t)threads - 1, sizeof *p->tid);
        if (!p->tid) {
            rt_pool_free(p);
            return NULL;
        }
        for (int i = 0; i < threads - 1; i++)
            if (pthread_create(&p->tid[i], NULL, worker, p) != 0) {
                p->threads = i + 1; /* the ones that started are joined on free */
                break;
            }
    }
    return p;
}

void rt_pool_free(rt_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; p->tid && i < p->threads - 1; i++) pthread_join(p->tid[i], NULL);
    free(p->tid);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int rt_pool_threads(const rt_pool *p) {
    return p ? p->threads : 1;
}

void rt_pool_run(rt_pool *p, int64_t ntasks, rt_task_fn fn, void *arg) {
    if (ntasks <= 0) return;
    if (!p || p->threads == 1 || ntasks == 1) {
        for (int64_t t = 0; t < ntasks; t++) fn(arg, t);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, fn, arg, ntasks);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
