/* A hot loop that faults after many iterations, so the fault happens in compiled code:
 * hotfault load N   -- reads through a pointer that becomes unmapped at iteration N
 * hotfault store N  -- writes through it instead
 * hotfault ok N     -- never faults; prints the sum */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long table[1024];

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "ok";
    long n = argc > 2 ? atol(argv[2]) : 100000;
    long *bad = (long *)(unsigned long)0x18;  /* in the never-mapped first page */
    long sum = 0;
    for (long i = 0; i < 1024; i++)
        table[i] = i * 3;
    for (long i = 0; i <= n; i++) {
        long *q = (i == n && strcmp(mode, "ok") != 0) ? bad : &table[i & 1023];
        if (mode[0] == 's')
            *q = sum;
        else
            sum += *q;
        __asm__ volatile("" ::: "memory");
    }
    printf("sum %ld\n", sum);
    return 0;
}
