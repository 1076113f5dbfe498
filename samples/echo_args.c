/* echo_args: prints argc and every argument; every argument after "--env"
 * is also looked up as an environment variable name.
 * Usage: echo_args [ARGS...] [--env NAME...]
 * argv[0] is printed as its basename so the output does not depend on the
 * directory the binary was started from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        printf("argv[0]=[%s]\n", slash ? slash + 1 : argv[0]);
    }
    int env_from = argc;
    for (int i = 1; i < argc; i++) {
        printf("argv[%d]=[%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
        if (env_from == argc && strcmp(argv[i], "--env") == 0)
            env_from = i + 1;
    }
    for (int i = env_from; i < argc; i++) {
        const char *v = getenv(argv[i]);
        printf("env %s=%s\n", argv[i], v ? v : "(unset)");
    }
    return 0;
}
