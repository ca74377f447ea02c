/* A small fixed pthread pool. rt_pool_run splits n tasks among the calling
 * thread and the workers (dynamic: each takes the next index) and returns
 * when all are done. Kernels know nothing about threads; the fast conv step
 * hands the pool its rows. One pool per session context, so contexts can
 * run in parallel. */
#ifndef CK_POOL_H
#define CK_POOL_H

#include <stdint.h>

typedef struct rt_pool rt_pool;
/* thread: 0 for the caller, 1 .. threads-1 for the workers (per-thread
 * scratch) */
typedef void (*rt_task_fn)(void *arg, int64_t task, int thread);

/* threads >= 1 (1: no worker threads). NULL on failure. */
rt_pool *rt_pool_new(int threads);
void rt_pool_free(rt_pool *p);
int rt_pool_threads(const rt_pool *p);
void rt_pool_run(rt_pool *p, int64_t ntasks, rt_task_fn fn, void *arg);

#endif
