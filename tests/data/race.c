/* A data race for helgrind: two threads increment one counter without a lock. Then it
 * serves like a server: it waits for SIGINT or SIGTERM and exits 0.
 * Built by tests/execution_envs.rs with `gcc -g -O0 -pthread`. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static long counter;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void *bump(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++)
        counter++; /* unsynchronised read-modify-write: the race */
    return NULL;
}

int main(void) {
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("counter = %ld\n", counter);
    fflush(stdout);
    while (!stop)
        pause();
    return 0;
}
