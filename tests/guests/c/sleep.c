/* sleep: clocks and sleeping. Measures the monotonic clock around a
 * relative 100 ms nanosleep() and an absolute clock_nanosleep() to
 * now + 50 ms (poll_oneoff with a clock subscription, relative and
 * TIMER_ABSTIME; wasi:clocks/monotonic-clock subscribe-duration and
 * subscribe-instant). Prints on stdout whether each sleep lasted at least
 * as long as asked and whether the wall clock is after 2020; the elapsed
 * milliseconds go to stderr (not deterministic). */
#include <stdio.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    long long t0 = now_ns();
    struct timespec d = {0, 100 * 1000000L};
    int r = nanosleep(&d, NULL);
    long long t1 = now_ns();
    printf("nanosleep returned %d\n", r);
    printf("slept >= 100 ms: %s\n", t1 - t0 >= 100000000LL ? "yes" : "no");
    fprintf(stderr, "nanosleep: %lld ms\n", (t1 - t0) / 1000000LL);

    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long long t2 = (long long)until.tv_sec * 1000000000LL + until.tv_nsec;
    until.tv_nsec += 50 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec += 1;
        until.tv_nsec -= 1000000000L;
    }
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    long long t3 = now_ns();
    printf("clock_nanosleep returned %d\n", r);
    printf("slept >= 50 ms: %s\n", t3 - t2 >= 50000000LL ? "yes" : "no");
    fprintf(stderr, "clock_nanosleep: %lld ms\n", (t3 - t2) / 1000000LL);

    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    printf("wall clock after 2020: %s\n", wall.tv_sec > 1577836800 ? "yes" : "no");
    return 0;
}
