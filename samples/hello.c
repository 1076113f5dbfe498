/* hello: prints a greeting.  Usage: hello [N]  (N greetings, default 1). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1;
    for (long i = 1; i <= n; i++)
        printf("Hello, world! (%ld/%ld)\n", i, n);
    return 0;
}
