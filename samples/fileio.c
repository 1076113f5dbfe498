/* fileio: file system system calls, one step per output line.
 * Usage: fileio [DIR]
 * DIR must not exist: it is created, used and removed again.  The default is
 * /tmp/dbt-fileio.<pid> (the name is never printed, so the output does not
 * depend on it). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errname(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "E?";
    }
}

/* print "<what>: <result>" or "<what>: -1 <ERRNO>" and return the result */
static long step(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, errname(errno));
    else
        printf("%s: %ld\n", what, r);
    return r;
}

/* like step() for calls returning a file descriptor: its number depends on
 * what else the process has open, so only "fd" is printed */
static int fdstep(const char *what, int r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, errname(errno));
    else
        printf("%s: fd\n", what);
    return r;
}

static void show(const char *what, const char *buf, long n)
{
    printf("%s: \"", what);
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n')
            printf("\\n");
        else if (c < 32 || c > 126)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\" (%ld bytes)\n", n);
}

static void show_stat(const char *what, const struct stat *st)
{
    const char *type = S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir"
                     : S_ISLNK(st->st_mode) ? "symlink" : "other";
    printf("%s: %s mode=%04o", what, type, (unsigned)(st->st_mode & 07777));
    if (!S_ISDIR(st->st_mode)) /* directory sizes and link counts depend on the file system */
        printf(" size=%lld nlink=%lu", (long long)st->st_size, (unsigned long)st->st_nlink);
    printf("\n");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        step("opendir", -1);
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    printf("listing of %s (%d entries):", path, n);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    char dir[256], buf[256];
    struct stat st;
    long n;
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "/tmp/dbt-fileio.%ld", (long)getpid());
    umask(022);
    int home = open(".", O_RDONLY | O_DIRECTORY);

    step("mkdir dir", mkdir(dir, 0755));
    step("mkdir dir again", mkdir(dir, 0755));
    if (step("chdir dir", chdir(dir)) < 0)
        return 1;

    /* create and write */
    const char text[] = "Hello, file!\nsecond line\n";
    int fd = fdstep("open data.txt O_CREAT|O_EXCL", open("data.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    fdstep("open data.txt O_CREAT|O_EXCL again", open("data.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    step("write", write(fd, text, sizeof text - 1));
    step("fstat", fstat(fd, &st));
    show_stat("  data.txt", &st);
    step("close", close(fd));
    step("write to closed fd", write(fd, "x", 1));

    /* lseek, read, pread, pwrite */
    fd = fdstep("open data.txt O_RDWR", open("data.txt", O_RDWR));
    step("lseek end", lseek(fd, 0, SEEK_END));
    step("lseek 7", lseek(fd, 7, SEEK_SET));
    n = step("read 4", read(fd, buf, 4));
    show("  read", buf, n);
    step("pwrite FILE at 7", pwrite(fd, "FILE", 4, 7));
    n = step("pread 12 at 0", pread(fd, buf, 12, 0));
    show("  pread", buf, n);
    step("lseek cur (unchanged by pread/pwrite)", lseek(fd, 0, SEEK_CUR));
    step("lseek 100 (past the end)", lseek(fd, 100, SEEK_SET));
    step("write at 100", write(fd, "end\n", 4));
    step("fstat", fstat(fd, &st));
    show_stat("  data.txt", &st);
    n = step("pread 8 at 24 (hole)", pread(fd, buf, 8, 24));
    show("  pread", buf, n);
    step("ftruncate 26", ftruncate(fd, 26));
    step("lseek -1", lseek(fd, -1, SEEK_SET));
    step("close", close(fd));

    /* append and read back */
    fd = fdstep("open O_APPEND", open("data.txt", O_WRONLY | O_APPEND));
    step("write appended", write(fd, "third line\n", 11));
    int fd2 = fdstep("dup", dup(fd));
    step("write via dup", write(fd2, "fourth\n", 7));
    close(fd2);
    step("close", close(fd));
    fd = fdstep("open O_RDONLY", open("data.txt", O_RDONLY));
    n = step("read all", read(fd, buf, sizeof buf));
    show("  contents", buf, n);
    step("read at eof", read(fd, buf, sizeof buf));
    step("write to O_RDONLY fd", write(fd, "x", 1));
    close(fd);

    /* rename, symlink, readlink */
    step("rename data.txt renamed.txt", rename("data.txt", "renamed.txt"));
    fdstep("open data.txt (missing)", open("data.txt", O_RDONLY));
    step("stat data.txt (missing)", stat("data.txt", &st));
    step("symlink link -> renamed.txt", symlink("renamed.txt", "link"));
    step("symlink again", symlink("renamed.txt", "link"));
    n = step("readlink link", readlink("link", buf, sizeof buf));
    show("  target", buf, n);
    step("readlink renamed.txt (not a link)", readlink("renamed.txt", buf, sizeof buf));
    step("lstat link", lstat("link", &st));
    show_stat("  link", &st);
    step("stat link", stat("link", &st));
    show_stat("  link target", &st);
    step("link renamed.txt hard", link("renamed.txt", "hard"));
    step("stat renamed.txt", stat("renamed.txt", &st));
    show_stat("  renamed.txt", &st);

    /* directories */
    step("mkdir sub", mkdir("sub", 0700));
    step("stat sub", stat("sub", &st));
    show_stat("  sub", &st);
    fd = fdstep("open sub/b", open("sub/b", O_CREAT | O_WRONLY, 0600));
    close(fd);
    fd = fdstep("open sub/a", open("sub/a", O_CREAT | O_WRONLY, 0640));
    close(fd);
    list_dir(".");
    list_dir("sub");

    /* access checks and expected failures */
    step("access renamed.txt R_OK", access("renamed.txt", R_OK));
    step("access renamed.txt X_OK", access("renamed.txt", X_OK));
    step("access missing F_OK", access("missing", F_OK));
    step("chmod renamed.txt 0755", chmod("renamed.txt", 0755));
    step("access renamed.txt X_OK", access("renamed.txt", X_OK));
    fdstep("open sub O_WRONLY", open("sub", O_WRONLY));
    fdstep("open renamed.txt/x", open("renamed.txt/x", O_RDONLY));
    step("rmdir renamed.txt", rmdir("renamed.txt"));
    step("rmdir sub (not empty)", rmdir("sub"));
    step("unlink sub", unlink("sub"));
    int pipefd[2];
    step("pipe", pipe(pipefd));
    step("lseek on a pipe", lseek(pipefd[0], 0, SEEK_CUR));
    step("write to pipe", write(pipefd[1], "ping", 4));
    n = step("read from pipe", read(pipefd[0], buf, sizeof buf));
    show("  pipe", buf, n);
    close(pipefd[0]);
    close(pipefd[1]);

    /* clean up */
    step("unlink sub/a", unlink("sub/a"));
    step("unlink sub/b", unlink("sub/b"));
    step("rmdir sub", rmdir("sub"));
    step("unlink link", unlink("link"));
    step("unlink hard", unlink("hard"));
    step("unlink renamed.txt", unlink("renamed.txt"));
    step("unlink renamed.txt again", unlink("renamed.txt"));
    list_dir(".");
    step("fchdir back", fchdir(home));
    step("rmdir dir", rmdir(dir));
    step("stat dir (removed)", stat(dir, &st));
    return 0;
}
