/* escape: tries every way out of a --root directory.  Run as /bin/escape inside a root prepared by
 * tests/test_linux_root.py (etc/passwd holding "inside", symlinks to /, to ../.., chains, a symlinked
 * directory); argv[1] is the host path of a file outside the root holding "SECRET", argv[2] a host
 * path outside the root that must not get created.
 *        escape --child     what the exec'd copy prints */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* open a path and print what it holds (first line) or the error */
static void cat_at(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, errname(errno));
        return;
    }
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        printf("open %s: read %s\n", path, errname(errno));
        return;
    }
    buf[strcspn(buf, "\n")] = 0;
    for (char *c = buf; *c; c++)
        if (*c < 32 || *c > 126)
            *c = '?';
    printf("open %s: \"%s\"\n", path, buf);
}

static void cat(const char *path) { cat_at(AT_FDCWD, path); }

static void cwd(const char *what)
{
    char buf[PATH_MAX];
    printf("%s: %s\n", what, getcwd(buf, sizeof buf) ? buf : errname(errno));
}

static void ls(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("ls %s: %s\n", path, errname(errno));
        return;
    }
    char names[64][64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.')
            snprintf(names[n++], 64, "%s", e->d_name);
    closedir(d);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--child")) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        printf("child: exe=%s\n", exe);
        cwd("child: cwd");
        cat("/etc/passwd");
        return 3;
    }
    const char *secret = argc > 1 ? argv[1] : "/nonexistent";
    const char *victim = argc > 2 ? argv[2] : "/nonexistent";
    char buf[PATH_MAX];
    struct stat st, root;

    cwd("cwd at start");
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self/exe: %s\n", buf);
    cat("/proc/self/exe");  /* prints the ELF magic's first bytes */
    ls("/");

    /* plain paths */
    cat("/etc/passwd");
    cat("etc/passwd");
    cat("../../../etc/passwd");
    cat("/../../../etc/passwd");
    cat(secret);
    cat("../secret");
    cat("/../secret");

    /* symlinks: absolute, relative, chains, loops, in the middle and at the end */
    cat("/sub/to_root/etc/passwd");
    cat("/sub/to_root/../secret");
    cat("/sub/up/etc/passwd");
    cat("/sub/up/../secret");
    cat("sub/up/../../../etc/passwd");
    cat("/sub/chain1/passwd");
    cat("/sub/abs_secret");
    cat("/sub/rel_secret");
    cat("/sub/loop");
    cat("/linkdeeper/../../etc/passwd");
    cat("/linkdeeper/../../../secret");
    n = readlink("/sub/up", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlink /sub/up: %s\n", buf);
    stat("/", &root);
    printf("stat /sub/to_root is /: %d\n", stat("/sub/to_root", &st) == 0 && st.st_ino == root.st_ino);
    printf("lstat /sub/to_root is a symlink: %d\n", lstat("/sub/to_root", &st) == 0 && S_ISLNK(st.st_mode));
    printf("stat /.. is /: %d\n", stat("/..", &st) == 0 && st.st_ino == root.st_ino);
    printf("stat /sub/up/.. is /: %d\n", stat("/sub/up/..", &st) == 0 && st.st_ino == root.st_ino);
    printf("lstat /sub/to_root/ (trailing slash follows) is /: %d\n",
           lstat("/sub/to_root/", &st) == 0 && st.st_ino == root.st_ino);
    printf("access secret: %s\n", access(secret, F_OK) == 0 ? "visible" : errname(errno));
    ls("/sub/to_root");
    ls("/..");
    ls("/sub/up/..");

    /* the working directory */
    step("chdir /sub/deeper", chdir("/sub/deeper"));
    cwd("cwd");
    cat("../../../../../etc/passwd");
    cat("../../../../../secret");
    step("chdir ../../..", chdir("../../.."));
    cwd("cwd");
    step("chdir ..", chdir(".."));
    cwd("cwd");
    step("chdir /sub/to_root", chdir("/sub/to_root"));
    cwd("cwd");
    step("chdir /linkdeeper", chdir("/linkdeeper"));
    cwd("cwd (physical)");
    chdir("/");

    /* dirfds obtained inside the root */
    int sub = open("/sub", O_RDONLY | O_DIRECTORY);
    cat_at(sub, "../../../../etc/passwd");
    cat_at(sub, "../../secret");
    cat_at(sub, "to_root/etc/passwd");
    int up = open("/sub/up", O_RDONLY | O_DIRECTORY);
    cat_at(up, "../secret");
    printf("fstat of /sub/up is /: %d\n", fstat(up, &st) == 0 && st.st_ino == root.st_ino);
    n = readlinkat(sub, "../proc/self/exe", buf, sizeof buf);
    printf("readlinkat sub ../proc/self/exe: %s\n", n < 0 ? errname(errno) : "found");
    step("fchdir to /sub", fchdir(sub));
    cwd("cwd");
    chdir("/");

    /* calls on a final component: targets outside must land inside */
    step("mkdir /../../made", mkdir("/../../made", 0755));
    step("mkdir /sub/to_root/made2", mkdir("/sub/to_root/made2", 0755));
    step("rename /made -> ../../moved", rename("/made", "../../moved"));
    step("link /etc/passwd -> /sub/up/../hard", link("/etc/passwd", "/sub/up/../hard"));
    step("symlink /etc/shadow as /sub/newlink", symlink("/etc/shadow", "/sub/newlink"));
    n = readlink("/sub/newlink", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlink /sub/newlink: %s\n", buf);
    cat("/sub/newlink");
    step("symlink to the secret", symlink(secret, "/tosecret"));
    cat("/tosecret");
    int fd = open("/sub/dangling", O_WRONLY | O_CREAT, 0644); /* dangling -> victim (a host path) */
    printf("create through a dangling absolute symlink: %s\n", fd < 0 ? errname(errno) : "created inside");
    if (fd >= 0)
        close(fd);
    fd = open(victim, O_WRONLY | O_CREAT, 0644);
    printf("create the victim path: %s\n", fd < 0 ? errname(errno) : "created inside");
    if (fd >= 0)
        close(fd);
    step("unlink /sub/to_root/hard", unlink("/sub/to_root/hard"));
    step("rmdir /..", rmdir("/.."));
    step("rename /sub/up/moved -> /sub/to_root/moved2", rename("/sub/up/moved", "/sub/to_root/moved2"));
    ls("/");

    /* execve: inside the root only */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        chdir("/sub");
        char *args[] = {"escape", "--child", NULL};
        execv("/sub/up/bin/escape", args);
        printf("execv failed: %s\n", errname(errno));
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("exec'd child status: %d\n", WEXITSTATUS(status));
    char *args[] = {"escape", NULL};
    step("execv a host path outside the root", execv(secret, args));
    step("execv /../../../bin/sh", execv("/../../../bin/sh", args));
    return 0;
}
