/* procs: processes, signals, identity, time, limits and other process-wide calls.
 * Usage: procs            the whole tour (run in a scratch directory: it writes a script there)
 *        procs --child MODE ...   what the exec'd children run
 * Nothing printed depends on pids, times or the machine, except the line "cpus: N". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

extern char **environ;
static char self[4096];

static void report(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: status %#x\n", what, status);
    fflush(stdout);
}

static int wait_for(pid_t pid)
{
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static pid_t xfork(void)
{
    fflush(stdout);
    return fork();
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* -- what exec'd children do --------------------------------------------------------------------------- */
static int child_main(int argc, char **argv)
{
    const char *mode = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "args")) {
        printf("child argc=%d", argc);
        for (int i = 0; i < argc; i++)
            printf(" [%s]", i == 0 ? (strrchr(argv[0], '/') ? "path" : argv[0]) : argv[i]);
        printf("\n");
        char *env[64];
        int ne = 0;
        for (char **e = environ; *e && ne < 64; e++)
            env[ne++] = *e;
        qsort(env, ne, sizeof *env, cmpstr); /* qemu-user reverses the environment; Linux keeps its order */
        for (int i = 0; i < ne; i++)
            printf("child env [%s]\n", env[i]);
        return 11;
    }
    if (!strcmp(mode, "inherit")) {
        int keep = atoi(argv[3]), gone = atoi(argv[4]);
        printf("child: kept fd open %d, cloexec fd closed %d\n", fcntl(keep, F_GETFD) >= 0,
               fcntl(gone, F_GETFD) < 0 && errno == EBADF);
        struct sigaction sa;
        sigaction(SIGUSR1, NULL, &sa);
        printf("child: SIGUSR1 ignored %d\n", sa.sa_handler == SIG_IGN);
        sigaction(SIGUSR2, NULL, &sa);
        printf("child: SIGUSR2 (had a handler) default %d\n", sa.sa_handler == SIG_DFL);
        sigset_t set;
        sigprocmask(SIG_SETMASK, NULL, &set);
        printf("child: SIGHUP still blocked %d\n", sigismember(&set, SIGHUP));
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        printf("child: /proc/self/exe ends in /procs %d\n", n > 6 && !strcmp(exe + n - 6, "/procs"));
        return 12;
    }
    if (!strcmp(mode, "spawned")) {
        printf("spawned child: %s\n", argv[3]);
        return 14;
    }
    /* anything else: run as a #! interpreter, argv = [interp, optional-arg, script, args...] */
    printf("script child argc=%d:", argc);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    return 13;
}

static void sigusr_handler(int sig) { (void)sig; }

int main(int argc, char **argv)
{
    if (argc > 1 && !strncmp(argv[1], "--child", 7))
        return child_main(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;

    /* -- identity --------------------------------------------------------------------------------------- */
    printf("gettid == getpid: %d\n", syscall(SYS_gettid) == getpid());
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("getresuid matches: %d\n", r == getuid() && e == geteuid());
    gid_t gr, ge, gs;
    getresgid(&gr, &ge, &gs);
    printf("getresgid matches: %d\n", gr == getgid() && ge == getegid());
    int ng = getgroups(0, NULL);
    gid_t groups[256];
    printf("getgroups count agrees: %d\n", ng >= 0 && getgroups(256, groups) == ng);
    step("setuid to self", setuid(getuid()));
    struct utsname u;
    step("uname", uname(&u));
    printf("  sysname=%s machine=%s\n", u.sysname, u.machine);
    printf("cpus: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t cpus;
    step("sched_getaffinity (bytes)", syscall(SYS_sched_getaffinity, 0, sizeof cpus, &cpus) > 0 ? 0 : -1);
    step("sched_yield", sched_yield());
    step("prctl PR_SET_NAME", prctl(PR_SET_NAME, "dbt-procs-test-long-name"));
    char name[17] = {0};
    step("prctl PR_GET_NAME", prctl(PR_GET_NAME, name));
    printf("  name: %s\n", name);
    step("prctl unknown option", prctl(12345, 0, 0, 0, 0));
    step("umask", umask(027));
    step("umask again", umask(022));

    /* -- randomness, time, system information ------------------------------------------------------------- */
    unsigned char rnd[300];
    step("getrandom 0", getrandom(rnd, 0, 0));
    step("getrandom 16", getrandom(rnd, 16, 0));
    step("getrandom 300 nonblocking", getrandom(rnd, 300, GRND_NONBLOCK));
    step("getrandom bad flags", getrandom(rnd, 16, 0x100));
    step("getrandom bad buffer", getrandom((void *)8, 16, 0));
    struct timespec t0, t1, res;
    step("clock_gettime MONOTONIC", clock_gettime(CLOCK_MONOTONIC, &t0));
    step("clock_gettime REALTIME", clock_gettime(CLOCK_REALTIME, &t1));
    printf("  realtime after 2020: %d\n", t1.tv_sec > 1577836800);
    time_t realtime = t1.tv_sec;
    step("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &res));
    printf("  resolution positive: %d\n", res.tv_sec > 0 || res.tv_nsec > 0);
    step("clock_gettime bad clock", syscall(SYS_clock_gettime, 12345, &t1));
    struct timespec ms = {0, 2000000};
    step("nanosleep 2 ms", nanosleep(&ms, NULL));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  monotonic advanced >= 2 ms: %d\n", (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec >= 2000000);
    struct timespec badts = {0, 1000000000};
    step("nanosleep bad nsec", syscall(SYS_nanosleep, &badts, NULL));
    struct timespec past = {0, 0};
    printf("clock_nanosleep absolute past: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
    struct timeval tv;
    step("gettimeofday", gettimeofday(&tv, NULL));
    printf("  agrees with CLOCK_REALTIME: %d\n", tv.tv_sec >= realtime && tv.tv_sec - realtime < 5);
    struct tms tm;
    printf("times: %s\n", times(&tm) == (clock_t)-1 ? "failed" : "ok");
    struct rusage ru;
    step("getrusage self", getrusage(RUSAGE_SELF, &ru));
    step("getrusage bad who", getrusage(42, &ru));
    struct sysinfo si;
    step("sysinfo", sysinfo(&si));
    printf("  totalram > 0: %d, mem_unit >= 1: %d\n", si.totalram > 0, si.mem_unit >= 1);

    /* -- limits --------------------------------------------------------------------------------------------- */
    struct rlimit rl, old;
    step("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &old));
    printf("  soft <= hard: %d\n", old.rlim_cur <= old.rlim_max);
    rl.rlim_cur = 20, rl.rlim_max = old.rlim_max;
    step("setrlimit NOFILE soft 20", setrlimit(RLIMIT_NOFILE, &rl));
    int last = -1, fds = 0;
    for (int i = 0; i < 40; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            printf("  open stops at the limit: %s, below 20: %d\n", errname(errno), last < 20);
            break;
        }
        last = fd, fds++;
    }
    for (int fd = 3; fd <= last; fd++)
        close(fd);
    step("setrlimit NOFILE back", setrlimit(RLIMIT_NOFILE, &old));
    rl.rlim_cur = 2, rl.rlim_max = 1;
    step("setrlimit soft > hard", setrlimit(RLIMIT_NOFILE, &rl));
    step("getrlimit RLIMIT_AS", getrlimit(RLIMIT_AS, &old));
    rl.rlim_cur = 1 << 30, rl.rlim_max = old.rlim_max;
    step("setrlimit RLIMIT_AS 1 GiB", setrlimit(RLIMIT_AS, &rl));
    getrlimit(RLIMIT_AS, &rl);
    printf("  RLIMIT_AS soft now 1 GiB: %d\n", rl.rlim_cur == 1 << 30);
    setrlimit(RLIMIT_AS, &old);
    step("prlimit64 read STACK", prlimit(0, RLIMIT_STACK, NULL, &old));
    step("getrlimit bad resource", syscall(SYS_getrlimit, 99, &rl));

    /* -- signals: dispositions, masks, the alternate stack -------------------------------------------------- */
    struct sigaction sa = {0}, osa;
    sa.sa_handler = sigusr_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    step("sigaction SIGUSR1 handler", sigaction(SIGUSR1, &sa, &osa));
    printf("  old was SIG_DFL: %d\n", osa.sa_handler == SIG_DFL);
    step("sigaction query", sigaction(SIGUSR1, NULL, &osa));
    printf("  handler kept: %d, SA_RESTART kept: %d, mask has SIGINT: %d\n", osa.sa_handler == sigusr_handler,
           !!(osa.sa_flags & SA_RESTART), sigismember(&osa.sa_mask, SIGINT));
    step("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
    step("sigaction signal 0", syscall(SYS_rt_sigaction, 0, NULL, &osa, 8));
    step("sigaction bad sigsetsize", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &osa, 4));
    sigset_t set, oset;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGKILL);
    step("sigprocmask block SIGUSR2+SIGKILL", sigprocmask(SIG_BLOCK, &set, &oset));
    sigprocmask(SIG_SETMASK, NULL, &set);
    printf("  blocked: SIGUSR2 %d, SIGKILL %d\n", sigismember(&set, SIGUSR2), sigismember(&set, SIGKILL));
    step("sigprocmask bad how", syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8));
    step("raise SIGUSR2 while blocked", raise(SIGUSR2));
    sigpending(&set);
    printf("  pending: SIGUSR2 %d\n", sigismember(&set, SIGUSR2));
    signal(SIGUSR2, SIG_IGN);
    step("unblock (ignored now)", sigprocmask(SIG_SETMASK, &oset, NULL));
    sigpending(&set);
    printf("  pending after ignoring: SIGUSR2 %d\n", sigismember(&set, SIGUSR2));
    signal(SIGUSR2, SIG_DFL);
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0}, oss;
    step("sigaltstack set", sigaltstack(&ss, &oss));
    printf("  old disabled: %d\n", oss.ss_flags == SS_DISABLE);
    step("sigaltstack query", sigaltstack(NULL, &oss));
    printf("  size kept: %d, flags: %d\n", oss.ss_size == 65536, oss.ss_flags);
    ss.ss_size = 100;
    step("sigaltstack too small", sigaltstack(&ss, NULL));
    step("kill bad signal", kill(getpid(), 1000));
    step("kill self signal 0", kill(getpid(), 0));

    /* -- futex, one thread -------------------------------------------------------------------------------- */
    uint32_t word = 5;
    step("futex WAIT, value differs", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0));
    struct timespec fto = {0, 1000000};
    step("futex WAIT, 1 ms timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &fto, NULL, 0));
    step("futex WAKE", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    step("futex bad address", syscall(SYS_futex, (void *)16, FUTEX_WAIT, 0, NULL, NULL, 0));

    /* -- fork, pipes, exit statuses -------------------------------------------------------------------------- */
    int p[2];
    pipe(p);
    pid_t parent = getpid();
    pid_t pid = xfork();
    if (pid == 0) {
        close(p[0]);
        char msg[64];
        int len = snprintf(msg, sizeof msg, "from the child, parent matches: %d\n", getppid() == parent);
        write(p[1], msg, len);
        _exit(3);
    }
    close(p[1]);
    char buf[256];
    n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("pipe: %s", buf);
    close(p[0]);
    report("fork child", wait_for(pid));
    step("kill the reaped child", kill(pid, SIGTERM));

    pid = xfork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(1);
    }
    report("child raising SIGTERM", wait_for(pid));
    pid = xfork();
    if (pid == 0) {
        signal(SIGTERM, SIG_IGN);
        raise(SIGTERM);
        _exit(4);
    }
    report("child raising an ignored SIGTERM", wait_for(pid));
    pid = xfork();
    if (pid == 0)
        abort();
    report("child calling abort", wait_for(pid));
    pid = xfork();
    if (pid == 0) {
        int q[2];
        pipe(q);
        close(q[0]);
        write(q[1], "x", 1);
        _exit(5);
    }
    report("child writing to a closed pipe", wait_for(pid));

    pipe(p);
    pid = xfork();
    if (pid == 0) {
        close(p[0]);
        signal(SIGTERM, SIG_IGN);
        write(p[1], "r", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    read(p[0], buf, 1);
    close(p[0]);
    int status;
    step("waitpid WNOHANG (running)", waitpid(pid, &status, WNOHANG));
    step("kill SIGTERM (ignored by the child)", kill(pid, SIGTERM));
    step("waitpid WNOHANG (still running)", waitpid(pid, &status, WNOHANG));
    step("kill SIGKILL", kill(pid, SIGKILL));
    report("child ignoring SIGTERM", wait_for(pid));

    pid = xfork();
    if (pid == 0)
        _exit(6);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    step("waitid P_PID WEXITED", waitid(P_PID, pid, &info, WEXITED));
    printf("  si_code CLD_EXITED %d, si_status %d, si_pid matches %d\n", info.si_code == CLD_EXITED,
           info.si_status, info.si_pid == pid);
    pid = xfork();
    if (pid == 0) {
        printf("setsid in child gives own pid: %d\n", setsid() == getpid());
        printf("getsid == getpid: %d, getpgid == getpid: %d\n", getsid(0) == getpid(), getpgid(0) == getpid());
        fflush(stdout);
        _exit(0);
    }
    wait_for(pid);
    step("setpgid child to itself", 0);

    /* -- vfork + execve ------------------------------------------------------------------------------------ */
    char *args[] = {"custom-argv0", "--child", "args", "", "--", "-x", "two words", NULL};
    char *env[] = {"A=1", "B=", "C=x=y", NULL};
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        execve(self, args, env);
        _exit(100 + errno);
    }
    report("vfork + execve self", wait_for(pid));
    pid = vfork();
    if (pid == 0) {
        execve("./no-such-program", args, env);
        _exit(100 + errno);
    }
    report("vfork + execve missing (100+errno)", wait_for(pid));
    step("execve missing in the parent", execve("./no-such-program", args, env));
    int fd = open("notelf", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(fd, "just text\n", 10);
    close(fd);
    step("execve a text file without #!", execve("./notelf", args, env));
    fd = open("noexec", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    step("execve a file without x permission", execve("./noexec", args, env));
    step("execve a directory", execve(".", args, env));

    /* #! scripts: the interpreter is this program, with one optional argument */
    fd = open("script.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    dprintf(fd, "#!%s --child\nignored\n", self);
    close(fd);
    fd = open("script2.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    dprintf(fd, "#! %s\t--child script \n", self);
    close(fd);
    pid = xfork();
    if (pid == 0) {
        char *sargs[] = {"./script.sh", "script", "arg1", NULL};
        execve("./script.sh", sargs, environ);
        _exit(100 + errno);
    }
    report("#! script", wait_for(pid));
    pid = xfork();
    if (pid == 0) {
        char *sargs[] = {"whatever", "arg1", NULL};
        execve("./script2.sh", sargs, environ);
        _exit(100 + errno);
    }
    report("#! script with an argument containing a space", wait_for(pid));

    /* what survives execve: fds without O_CLOEXEC, ignored signals, the mask; handlers reset */
    int keep = open("/dev/null", O_RDONLY), gone = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid = xfork();
    if (pid == 0) {
        char k[16], g[16];
        snprintf(k, sizeof k, "%d", keep);
        snprintf(g, sizeof g, "%d", gone);
        char *iargs[] = {"procs", "--child", "inherit", k, g, NULL};
        signal(SIGUSR1, SIG_IGN);
        signal(SIGUSR2, sigusr_handler);
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        sigprocmask(SIG_BLOCK, &hup, NULL);
        execve(self, iargs, environ);
        _exit(100 + errno);
    }
    report("exec inheritance", wait_for(pid));
    close(keep), close(gone);

    /* posix_spawn (musl: clone(CLONE_VM|CLONE_VFORK) on a separate stack, error through a pipe) */
    char *pargs[] = {"procs", "--child", "spawned", "hello", NULL};
    fflush(stdout);
    int rc = posix_spawn(&pid, self, NULL, NULL, pargs, environ);
    printf("posix_spawn: %d\n", rc);
    report("spawned child", wait_for(pid));
    rc = posix_spawn(&pid, "./no-such-program", NULL, NULL, pargs, environ);
    printf("posix_spawn of a missing file: %s\n", errname(rc));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "spawn.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    rc = posix_spawn(&pid, self, &fa, NULL, pargs, environ);
    printf("posix_spawn with stdout redirected: %d\n", rc);
    report("redirected child", wait_for(pid));
    fd = open("spawn.out", O_RDONLY);
    n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("its output: %s", buf);
    close(fd);

    step("waitpid with no children", waitpid(-1, &status, 0));
    unlink("notelf"), unlink("noexec"), unlink("script.sh"), unlink("script2.sh"), unlink("spawn.out");
    return 0;
}
