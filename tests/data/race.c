/* A data race for helgrind: two threads increment one counter without a lock.
 * Built by tests/execution_envs.rs with `gcc -g -O0 -pthread`. */
#include <pthread.h>
#include <stdio.h>

static long counter;

static void *bump(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++)
        counter++; /* unsynchronised read-modify-write: the race */
    return NULL;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("counter = %ld\n", counter);
    return 0;
}
