/* exitcode: writes a line to stderr, then exits with the status given as
 * argv[1] (default 42).  Usage: exitcode [STATUS] */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int status = argc > 1 ? atoi(argv[1]) : 42;
    fprintf(stderr, "exitcode: exiting with status %d\n", status);
    exit(status);
}
