/* shell: processes the way a shell uses them -- pipe + fork + waitpid,
 * fork + execve of this same binary (found through /proc/self/exe), dup2 of
 * a pipe onto a child's stdout, vfork + _exit, and kill with SIGTERM.
 * Usage: shell [LINES]   (lines the first child writes, default 5)
 *        shell --exec-child WORD   (what the exec'd children run: prints a
 *                                   line and exits with status 7)
 * No pids are printed, so the output is deterministic. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pid_t xfork(void)
{
    fflush(stdout); /* or the child would inherit (and print) buffered output */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r != pid) {
        perror("waitpid");
        exit(1);
    }
    return status;
}

static void report(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d%s\n", what, WTERMSIG(status),
               WTERMSIG(status) == SIGTERM ? " (SIGTERM)" : "");
    else
        printf("%s: unexpected status %#x\n", what, status);
}

/* read everything from fd into a malloc'd NUL-terminated buffer */
static char *slurp(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            _exit(100);
        p += r, n -= (size_t)r;
    }
}

static void exec_self(const char *self, char *argv0, char *word)
{
    char *args[] = {argv0, "--exec-child", word, NULL};
    execve(self, args, environ);
    printf("execve failed: %s\n", strerror(errno));
    fflush(stdout);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--exec-child") == 0) {
        printf("exec child: argc=%d word=%s\n", argc, argv[2]);
        return 7;
    }
    long lines = argc > 1 ? atol(argv[1]) : 5;
    int fds[2];
    size_t len;

    /* 1. pipe + fork: the child writes lines, the parent reads them */
    if (pipe(fds) < 0)
        return perror("pipe"), 1;
    pid_t pid = xfork();
    if (pid == 0) {
        close(fds[0]);
        char line[64];
        for (long i = 1; i <= lines; i++)
            write_all(fds[1], line, (size_t)snprintf(line, sizeof line, "line %ld from the child\n", i));
        _exit(3);
    }
    close(fds[1]);
    char *text = slurp(fds[0], &len);
    close(fds[0]);
    unsigned hash = 2166136261u;
    long nl = 0;
    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ (unsigned char)text[i]) * 16777619u;
        nl += text[i] == '\n';
    }
    printf("pipe: %ld lines, %zu bytes, fnv %08x\n", nl, len, hash);
    if (lines <= 10)
        printf("%s", text);
    free(text);
    report("pipe child", wait_for(pid));

    /* 2. fork + execve of this binary */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return perror("readlink /proc/self/exe"), 1;
    self[n] = 0;
    pid = xfork();
    if (pid == 0)
        exec_self(self, argv[0], "plain");
    report("exec child", wait_for(pid));

    /* 3. a pipeline stage: the child's stdout is the pipe (dup2), then exec */
    if (pipe(fds) < 0)
        return perror("pipe"), 1;
    pid = xfork();
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], 1) < 0)
            _exit(126);
        close(fds[1]);
        exec_self(self, argv[0], "piped");
    }
    close(fds[1]);
    text = slurp(fds[0], &len);
    close(fds[0]);
    printf("captured from the pipe: %s", text);
    free(text);
    report("piped exec child", wait_for(pid));

    /* 4. vfork + _exit */
    fflush(stdout);
    pid = vfork();
    if (pid == 0)
        _exit(5);
    if (pid < 0)
        return perror("vfork"), 1;
    report("vfork child", wait_for(pid));

    /* 5. kill a running child with SIGTERM */
    if (pipe(fds) < 0)
        return perror("pipe"), 1;
    pid = xfork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        close(fds[0]);
        write_all(fds[1], "r", 1); /* tell the parent we are running */
        for (;;)
            pause();
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    printf("kill: %d\n", kill(pid, SIGTERM));
    report("killed child", wait_for(pid));

    /* 6. nothing left to wait for */
    int status;
    printf("waitpid with no children: %d (%s)\n", (int)waitpid(-1, &status, 0),
           errno == ECHILD ? "ECHILD" : "?");
    return 0;
}
