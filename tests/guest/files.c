/* files: file and descriptor system calls, one step per line, run in an empty scratch directory
 * (the current directory).  Nothing printed depends on pids, times, inode numbers or fd numbers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void show_stat(const char *what, const struct stat *st)
{
    const char *type = S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir"
                     : S_ISLNK(st->st_mode) ? "symlink" : S_ISFIFO(st->st_mode) ? "fifo" : "other";
    printf("  %s: %s mode=%04o", what, type, (unsigned)(st->st_mode & 07777));
    if (!S_ISDIR(st->st_mode))
        printf(" size=%lld nlink=%lu blocks>0=%d", (long long)st->st_size, (unsigned long)st->st_nlink,
               st->st_blocks > 0);
    printf("\n");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* list a directory with raw getdents64, sorted */
static void listing(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        step("open dir for listing", -1);
        return;
    }
    char buf[512], *names[64];
    int n = 0;
    for (;;) {
        long r = syscall(SYS_getdents64, fd, buf, sizeof buf); /* small buffer: several calls */
        if (r <= 0)
            break;
        for (long off = 0; off < r;) {
            unsigned short reclen = *(unsigned short *)(buf + off + 16);
            unsigned char type = *(unsigned char *)(buf + off + 18);
            char *name = buf + off + 19;
            if (n < 64) {
                names[n] = malloc(strlen(name) + 4);
                sprintf(names[n], "%s%s", name, type == DT_DIR ? "/" : type == DT_LNK ? "@" : "");
                n++;
            }
            off += reclen;
        }
    }
    close(fd);
    qsort(names, n, sizeof *names, cmp);
    printf("listing of %s (%d):", dir, n);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

int main(void)
{
    char buf[256];
    struct stat st;
    umask(022);

    /* -- round trips ------------------------------------------------------------------------- */
    int fd = okstep("creat a.txt", open("a.txt", O_RDWR | O_CREAT | O_EXCL, 0640));
    step("creat again (O_EXCL)", open("a.txt", O_RDWR | O_CREAT | O_EXCL, 0640));
    step("write", write(fd, "hello, world\n", 13));
    struct iovec iov[3] = {{"one ", 4}, {"", 0}, {"two\n", 4}};
    step("writev", writev(fd, iov, 3));
    step("lseek 0", lseek(fd, 0, SEEK_SET));
    memset(buf, 0, sizeof buf);
    char b1[5] = {0}, b2[64] = {0};
    struct iovec riov[2] = {{b1, 5}, {b2, 64}};
    long n = step("readv", readv(fd, riov, 2));
    show("  first iovec", b1, 5);
    show("  second iovec", b2, n - 5);
    step("pwrite at 7", pwrite(fd, "WORLD", 5, 7));
    n = step("pread 12 at 0", pread(fd, buf, 12, 0));
    show("  pread", buf, n);
    step("lseek cur", lseek(fd, 0, SEEK_CUR));
    step("lseek end", lseek(fd, 0, SEEK_END));
    step("lseek -1", lseek(fd, -1, SEEK_SET));
    step("fstat", fstat(fd, &st));
    show_stat("a.txt", &st);
    step("ftruncate 5", ftruncate(fd, 5));
    step("ftruncate -1", ftruncate(fd, -1));
    fstat(fd, &st);
    printf("  size after ftruncate: %lld\n", (long long)st.st_size);
    step("fsync", fsync(fd));
    step("fdatasync", fdatasync(fd));
    step("flock LOCK_EX", flock(fd, LOCK_EX | LOCK_NB));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    step("fcntl F_SETLK", fcntl(fd, F_SETLK, &fl));
    fl.l_type = F_RDLCK;
    step("fcntl F_GETLK (own lock)", fcntl(fd, F_GETLK, &fl));
    printf("  l_type is F_UNLCK: %d\n", fl.l_type == F_UNLCK);
    step("close", close(fd));
    step("close again", close(fd));
    step("write to closed fd", write(fd, "x", 1));
    step("fstat of fd -1", fstat(-1, &st));

    fd = okstep("open O_APPEND", open("a.txt", O_WRONLY | O_APPEND));
    step("write appended", write(fd, "++\n", 3));
    int flags = fcntl(fd, F_GETFL);
    printf("F_GETFL: append=%d wronly=%d\n", !!(flags & O_APPEND), (flags & O_ACCMODE) == O_WRONLY);
    step("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, flags | O_NONBLOCK));
    printf("F_GETFL nonblock: %d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    step("read from O_WRONLY fd", read(fd, buf, 1));
    int d = okstep("dup", dup(fd));
    printf("dup cloexec: %d\n", fcntl(d, F_GETFD));
    step("write via dup", write(d, "dup\n", 4));
    int d2 = okstep("fcntl F_DUPFD_CLOEXEC 50", fcntl(fd, F_DUPFD_CLOEXEC, 50));
    printf("F_DUPFD_CLOEXEC >= 50: %d, cloexec: %d\n", d2 >= 50, fcntl(d2, F_GETFD));
    step("dup3 O_CLOEXEC onto 60", dup3(fd, 60, O_CLOEXEC));
    printf("dup3 cloexec: %d\n", fcntl(60, F_GETFD));
    step("dup3 same fd", dup3(fd, fd, 0));
    step("dup2 onto 61", dup2(fd, 61));
    printf("dup2 cloexec: %d\n", fcntl(61, F_GETFD));
    step("F_SETFD FD_CLOEXEC", fcntl(61, F_SETFD, FD_CLOEXEC));
    printf("F_GETFD: %d\n", fcntl(61, F_GETFD));
    close(60), close(61), close(d2), close(d), close(fd);
    fd = open("a.txt", O_RDONLY);
    n = step("read all", read(fd, buf, sizeof buf));
    show("  contents", buf, n);
    step("read at eof", read(fd, buf, sizeof buf));
    close(fd);

    /* -- errors ------------------------------------------------------------------------------- */
    step("open missing", open("missing", O_RDONLY));
    step("open a.txt/x", open("a.txt/x", O_RDONLY));
    step("open . O_WRONLY", open(".", O_WRONLY));
    step("open a.txt O_DIRECTORY", open("a.txt", O_RDONLY | O_DIRECTORY));
    char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    step("open 4999-byte path", open(longname, O_RDONLY));
    step("write from bad pointer", write(1, (void *)8, 4));
    fd = open("a.txt", O_RDONLY);
    step("read into bad pointer", read(fd, (void *)8, 4));
    step("lseek after the failed read", lseek(fd, 0, SEEK_CUR));
    close(fd);
    step("openat bad path pointer", syscall(SYS_openat, AT_FDCWD, (void *)16, O_RDONLY));
    step("fstat bad buffer", syscall(SYS_fstat, 0, (void *)16));
    step("openat bad dirfd", openat(99, "a.txt", O_RDONLY));
    step("openat dirfd of a file", openat(open("a.txt", O_RDONLY), "x", O_RDONLY));

    /* -- directories and names ------------------------------------------------------------------- */
    step("mkdir d", mkdir("d", 0755));
    step("mkdir d again", mkdir("d", 0755));
    step("mkdir e/ (trailing slash)", mkdir("e/", 0700));
    step("stat d", stat("d", &st));
    show_stat("d", &st);
    close(open("d/f1", O_CREAT | O_WRONLY, 0600));
    close(open("d/f2", O_CREAT | O_WRONLY, 0644));
    step("symlink d/l -> f1", symlink("f1", "d/l"));
    step("symlink again", symlink("f1", "d/l"));
    step("link d/f2 d/h", link("d/f2", "d/h"));
    listing("d");
    step("lstat d/l", lstat("d/l", &st));
    show_stat("d/l", &st);
    step("stat d/l", stat("d/l", &st));
    show_stat("d/l target", &st);
    int dfd = okstep("open d O_PATH", open("d", O_PATH | O_DIRECTORY));
    step("fstatat d, l, NOFOLLOW", fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
    show_stat("l", &st);
    step("fstatat AT_EMPTY_PATH", fstatat(dfd, "", &st, AT_EMPTY_PATH));
    show_stat("d itself", &st);
    step("fstatat empty path without the flag", fstatat(dfd, "", &st, 0));
    n = step("readlinkat d, l", readlinkat(dfd, "l", buf, sizeof buf));
    show("  target", buf, n);
    n = step("readlink into 1 byte", readlink("d/l", buf, 1));
    show("  truncated", buf, n);
    step("readlink of a file", readlink("a.txt", buf, sizeof buf));
    struct statx sx;
    step("statx d/h", statx(AT_FDCWD, "d/h", 0, STATX_BASIC_STATS, &sx));
    printf("  statx: mode=%04o nlink=%u size=%llu mask_has_size=%d\n", sx.stx_mode & 07777, sx.stx_nlink,
           (unsigned long long)sx.stx_size, !!(sx.stx_mask & STATX_SIZE));
    step("statx d/l NOFOLLOW", statx(AT_FDCWD, "d/l", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    printf("  statx: symlink=%d size=%llu\n", S_ISLNK(sx.stx_mode), (unsigned long long)sx.stx_size);
    step("symlink loop a", symlink("loop_b", "loop_a"));
    step("symlink loop b", symlink("loop_a", "loop_b"));
    step("open loop", open("loop_a", O_RDONLY));
    step("open loop O_NOFOLLOW", open("loop_a", O_RDONLY | O_NOFOLLOW));
    step("rename d/f1 d/g1", rename("d/f1", "d/g1"));
    step("stat d/l (dangling now)", stat("d/l", &st));
    step("renameat2 NOREPLACE onto existing", syscall(SYS_renameat2, AT_FDCWD, "d/g1", AT_FDCWD, "d/f2", 1));
    step("renameat2 NOREPLACE to new", syscall(SYS_renameat2, AT_FDCWD, "d/g1", AT_FDCWD, "d/g2", 1));
    step("rename dir into itself", rename("d", "d/sub"));
    step("rmdir d (not empty)", rmdir("d"));
    step("rmdir a.txt", rmdir("a.txt"));
    step("unlink d", unlink("d"));
    step("unlink a.txt/ (trailing slash)", unlink("a.txt/"));
    step("unlink missing", unlink("missing"));
    step("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "d/l", AT_FDCWD, "viafollow", AT_SYMLINK_FOLLOW));
    step("symlink d/l2 -> g2", symlink("g2", "d/l2"));
    step("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "d/l2", AT_FDCWD, "viafollow", AT_SYMLINK_FOLLOW));
    step("stat viafollow", stat("viafollow", &st));
    show_stat("viafollow", &st);
    step("linkat no follow", linkat(AT_FDCWD, "d/l2", AT_FDCWD, "linkcopy", 0));
    step("lstat linkcopy", lstat("linkcopy", &st));
    show_stat("linkcopy", &st);

    /* -- permissions and times ------------------------------------------------------------------- */
    step("access a.txt R_OK", access("a.txt", R_OK));
    step("access a.txt X_OK", access("a.txt", X_OK));
    step("access missing", access("missing", F_OK));
    step("faccessat AT_EACCESS", faccessat(AT_FDCWD, "a.txt", W_OK, AT_EACCESS));
    step("chmod a.txt 0755", chmod("a.txt", 0755));
    step("access a.txt X_OK", access("a.txt", X_OK));
    fd = open("a.txt", O_RDONLY);
    step("fchmod 0600", fchmod(fd, 0600));
    fstat(fd, &st);
    printf("  mode: %04o\n", (unsigned)(st.st_mode & 07777));
    step("fchown to self", fchown(fd, getuid(), getgid()));
    step("fchownat -1 -1", fchownat(AT_FDCWD, "a.txt", -1, -1, 0));
    close(fd);
    struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
    step("utimensat", utimensat(AT_FDCWD, "a.txt", ts, 0));
    stat("a.txt", &st);
    printf("  atime=%lld.%09ld mtime=%lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {42, 0}};
    step("utimensat UTIME_OMIT", utimensat(AT_FDCWD, "a.txt", omit, 0));
    stat("a.txt", &st);
    printf("  atime=%lld mtime=%lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
    step("utimensat bad nsec", utimensat(AT_FDCWD, "a.txt", bad, 0));
    step("umask 077 (old)", umask(077));
    close(open("masked", O_CREAT | O_WRONLY, 0666));
    stat("masked", &st);
    printf("  masked mode: %04o\n", (unsigned)(st.st_mode & 07777));
    step("umask (old)", umask(022));
    step("truncate a.txt 3", truncate("a.txt", 3));
    stat("a.txt", &st);
    printf("  size: %lld\n", (long long)st.st_size);
    struct statfs sfs;
    step("statfs .", statfs(".", &sfs));
    printf("  f_bsize>0: %d\n", sfs.f_bsize > 0);
    fd = open(".", O_RDONLY);
    step("fstatfs", fstatfs(fd, &sfs));
    close(fd);

    /* -- the working directory ---------------------------------------------------------------------- */
    char cwd[PATH_MAX], cwd2[PATH_MAX];
    step("getcwd", getcwd(cwd, sizeof cwd) ? 0 : -1);
    step("getcwd into 1 byte", syscall(SYS_getcwd, buf, 1));
    step("chdir d", chdir("d"));
    getcwd(cwd2, sizeof cwd2);
    printf("  cwd is old cwd + /d: %d\n", strlen(cwd2) == strlen(cwd) + 2 && !strncmp(cwd, cwd2, strlen(cwd)));
    step("stat f2 (relative)", stat("f2", &st));
    step("stat ../a.txt", stat("../a.txt", &st));
    step("chdir a missing dir", chdir("missing"));
    step("chdir a file", chdir("../a.txt"));
    step("fchdir to the O_PATH fd of d", fchdir(dfd));
    step("chdir ..", chdir(".."));
    getcwd(cwd2, sizeof cwd2);
    printf("  back: %d\n", !strcmp(cwd, cwd2));

    /* -- pipes, ioctl, poll --------------------------------------------------------------------------- */
    int p[2];
    step("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK | O_CLOEXEC));
    printf("pipe cloexec: %d %d\n", fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD));
    step("read empty nonblocking pipe", read(p[0], buf, 1));
    struct winsize ws;
    step("TIOCGWINSZ on a pipe", ioctl(p[0], TIOCGWINSZ, &ws));
    struct termios tio;
    step("tcgetattr on a pipe", tcgetattr(p[0], &tio));
    printf("isatty(pipe): %d (%s)\n", isatty(p[1]), errname(errno));
    printf("ioctl unknown request fails: %d\n", ioctl(p[0], 0x7fff, 0) < 0); /* qemu: ENOSYS, Linux: ENOTTY */
    step("ioctl on a bad fd", ioctl(77, TIOCGWINSZ, &ws));
    struct pollfd pfd[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    step("poll (write end ready)", poll(pfd, 2, 0));
    printf("  revents: %#x %#x\n", pfd[0].revents, pfd[1].revents);
    step("write to pipe", write(p[1], "abc", 3));
    int avail = -1;
    step("FIONREAD", ioctl(p[0], FIONREAD, &avail));
    printf("  available: %d\n", avail);
    step("poll (both ready)", poll(pfd, 2, 100));
    printf("  revents: %#x %#x\n", pfd[0].revents, pfd[1].revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {0, 1000};
    step("select", select(p[0] + 1, &rs, NULL, NULL, &tv));
    printf("  read end set: %d\n", FD_ISSET(p[0], &rs));
    struct timespec tmo = {0, 1000000};
    struct pollfd none = {-1, POLLIN, 0};
    step("ppoll negative fd, 1 ms", ppoll(&none, 1, &tmo, NULL));
    n = step("read pipe", read(p[0], buf, sizeof buf));
    show("  pipe", buf, n);
    fd = open("d/f2", O_RDWR);
    write(fd, "0123456789", 10);
    off_t off = 2;
    step("sendfile file -> pipe (offset 2, 5 bytes)", sendfile(p[1], fd, &off, 5));
    printf("  offset now %lld\n", (long long)off);
    n = read(p[0], buf, sizeof buf);
    show("  sent", buf, n);
    step("lseek pipe", lseek(p[0], 0, SEEK_SET));
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    step("write to a pipe without readers (SIGPIPE ignored)", write(p[1], "x", 1));
    close(p[1]);
    close(fd);

    /* -- /proc/self ------------------------------------------------------------------------------------ */
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self/exe ends with /files: %d\n", n > 6 && !strcmp(buf + n - 6, "/files"));
    fd = okstep("open /proc/self/exe", open("/proc/self/exe", O_RDONLY));
    n = read(fd, buf, 4);
    show("  magic", buf, n);
    close(fd);
    step("stat /proc/self/exe", stat("/proc/self/exe", &st));
    printf("  regular: %d\n", S_ISREG(st.st_mode));
    fd = open("a.txt", O_RDONLY);
    sprintf(cwd2, "/proc/self/fd/%d", fd);
    n = readlink(cwd2, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("/proc/self/fd/N names a.txt: %d\n", n > 6 && !strcmp(buf + n - 6, "/a.txt"));
    close(fd);

    /* -- clean up ------------------------------------------------------------------------------------- */
    const char *files[] = {"d/f2", "d/g2", "d/h", "d/l", "d/l2", "a.txt", "masked", "viafollow", "linkcopy",
                           "loop_a", "loop_b"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++)
        if (unlink(files[i]) < 0)
            printf("unlink %s: %s\n", files[i], errname(errno));
    step("unlinkat AT_REMOVEDIR e", unlinkat(AT_FDCWD, "e", AT_REMOVEDIR));
    step("rmdir d/", rmdir("d/"));
    listing(".");
    return 0;
}
