/* strace: a few system calls with fixed arguments, for checking dbt --strace output line by line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1) {
        syscall(SYS_write, 1, "child\n", 6);
        syscall(SYS_exit_group, 5);
    }
    syscall(SYS_openat, AT_FDCWD, "/nonexistent/file", O_RDONLY | O_CLOEXEC);
    syscall(SYS_write, 1, "hi\n", 3);
    syscall(SYS_write, 1, "0123456789012345678901234567890123456789\n", 41);
    syscall(SYS_close, -1);
    syscall(SYS_umask, 022);
    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/dir", 0755);
    syscall(SYS_faccessat, AT_FDCWD, "/", R_OK | X_OK);
    syscall(SYS_lseek, 0, 0, SEEK_CUR);
    syscall(SYS_kill, 0, 0);
    syscall(SYS_rt_sigaction, SIGKILL, 0, 0, 8);
    pid_t pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        char *args[] = {"strace", "child", NULL};
        char *env[] = {"A=1", NULL};
        syscall(SYS_execve, "/proc/self/exe", args, env);
        syscall(SYS_exit_group, 99);
    }
    syscall(SYS_wait4, pid, 0, 0, 0);
    syscall(SYS_exit_group, 0);
}
