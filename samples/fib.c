/* fib: naive recursive Fibonacci (call-heavy).  Usage: fib [N] (default 27) */
#include <stdio.h>
#include <stdlib.h>

static unsigned long calls;

__attribute__((noinline)) static unsigned long fib(int n)
{
    calls++;
    if (n < 2)
        return (unsigned long)n;
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 27;
    for (int i = 0; i <= 10; i++)
        printf("%lu%c", fib(i), i == 10 ? '\n' : ' ');
    calls = 0;
    unsigned long r = fib(n);
    printf("fib(%d) = %lu (%lu calls)\n", n, r, calls);
    return 0;
}
