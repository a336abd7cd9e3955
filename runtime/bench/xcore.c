/*
 * Cross-core round trip: two threads, pinned to two CPUs, hand one cache line back and forth (each waits for the
 * other's store, then stores). Prints each sample's nanoseconds per round trip, then their median.
 *
 * The forwarding benchmark runs it between runs: every frame a forwarder moves crosses between the generator's core
 * and the forwarder's (rings, descriptors, buffers), so this one figure says how far apart the host has put the two
 * vCPUs at that moment. On the machine of the README it reads about 100-200 ns or 500-900 ns, switching every second
 * or so.
 *
 *   xcore <cpu a> <cpu b> <samples> <round trips per sample> [ms between samples, default 50]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Atomic long line __attribute__((aligned(64)));
static long trips;
static int cpu_b;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("sched_setaffinity");
        exit(2);
    }
}

static void *answer(void *unused) {
    (void) unused;
    pin(cpu_b);
    for (long i = 0; i < trips; i++) {
        while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&line, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: xcore <cpu a> <cpu b> <samples> <round trips per sample> [ms between samples]\n");
        return 2;
    }
    int cpu_a = atoi(argv[1]);
    cpu_b = atoi(argv[2]);
    int samples = atoi(argv[3]);
    trips = atol(argv[4]);
    long gap_ms = argc == 6 ? atol(argv[5]) : 50;
    if (samples < 1 || samples > 10000 || trips < 1) {
        fprintf(stderr, "xcore: samples must be 1..10000 and round trips at least 1\n");
        return 2;
    }
    double *ns = calloc(samples, sizeof *ns);
    pin(cpu_a);
    for (int s = 0; s < samples; s++) {
        if (s > 0 && gap_ms > 0) {
            struct timespec gap = {gap_ms / 1000, gap_ms % 1000 * 1000000};
            nanosleep(&gap, NULL);
        }
        atomic_store(&line, 0);
        pthread_t t;
        if (pthread_create(&t, NULL, answer, NULL) != 0) {
            perror("pthread_create");
            return 2;
        }
        double start = now_ns();
        for (long i = 0; i < trips; i++) {
            atomic_store_explicit(&line, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 2) {
            }
        }
        ns[s] = (now_ns() - start) / trips;
        pthread_join(t, NULL);
        printf("%.0f ", ns[s]);
    }
    qsort(ns, samples, sizeof *ns, by_value);
    printf("median %.0f\n", ns[samples / 2]);
    return 0;
}
