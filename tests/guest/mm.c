/* mm: the guest address space -- brk, mmap (anonymous, file-backed, fixed, hints), munmap, mprotect
 * (faults checked in forked children), mremap (grow, shrink, move, fixed), madvise, mincore, msync.
 * Addresses are never printed, only relations between them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096L

static void report(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    fflush(stdout);
}

/* run fn in a child and report how it ended (a fault kills the child with SIGSEGV) */
static void in_child(const char *what, void (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    report(what, status);
}

static void poke(void *p) { *(volatile char *)p = 1; }
static void peek(void *p) { (void)*(volatile char *)p; }

static unsigned sum(const unsigned char *p, long n)
{
    unsigned s = 0;
    for (long i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

int main(void)
{
    /* -- brk -------------------------------------------------------------------------------------- */
    char *b0 = (char *)syscall(SYS_brk, 0);
    char *b1 = (char *)syscall(SYS_brk, b0 + 3 * PAGE + 5);
    printf("brk grows: %d\n", b1 == b0 + 3 * PAGE + 5);
    memset(b0, 7, 3 * PAGE + 5);
    printf("brk memory usable: %d\n", b0[3 * PAGE + 4] == 7);
    char *b2 = (char *)syscall(SYS_brk, b0 + PAGE);
    printf("brk shrinks: %d\n", b2 == b0 + PAGE);
    char *b3 = (char *)syscall(SYS_brk, b0 - PAGE * 1000);
    printf("brk below the start is refused: %d\n", b3 == b2);
    char *b4 = (char *)syscall(SYS_brk, b0 + 2 * PAGE);
    printf("brk regrown page reads zero: %d\n", b4 == b0 + 2 * PAGE && b0[PAGE + 10] == 0);
    syscall(SYS_brk, b0);

    /* -- anonymous mmap ------------------------------------------------------------------------------ */
    unsigned char *a = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap anon: %s, aligned %d, zeroed %d\n", a == MAP_FAILED ? "failed" : "ok",
           ((uintptr_t)a & (PAGE - 1)) == 0, a[0] == 0 && a[5 * PAGE - 1] == 0);
    for (long i = 0; i < 5 * PAGE; i++)
        a[i] = (unsigned char)(i * 7);
    printf("sum: %08x\n", sum(a, 5 * PAGE));
    step("mmap length 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    step("mmap no MAP_PRIVATE/SHARED", (long)mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0));
    step("mmap unaligned offset", (long)mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 0, 100));
    step("mmap bad fd", (long)mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 99, 0));

    /* -- mprotect --------------------------------------------------------------------------------------- */
    step("mprotect page 1 read-only", mprotect(a + PAGE, PAGE, PROT_READ));
    in_child("write to the read-only page", poke, a + PAGE);
    in_child("read the read-only page", peek, a + PAGE);
    in_child("write next to it", poke, a + 2 * PAGE);
    step("mprotect page 1 PROT_NONE", mprotect(a + PAGE, PAGE, PROT_NONE));
    in_child("read the PROT_NONE page", peek, a + PAGE);
    step("mprotect unaligned", mprotect(a + 1, PAGE, PROT_READ));
    step("mprotect bad prot bits", mprotect(a, PAGE, 0x100));
    step("mprotect back to read-write", mprotect(a + PAGE, PAGE, PROT_READ | PROT_WRITE));
    printf("contents survive mprotect: %d\n", a[PAGE + 1] == (unsigned char)((PAGE + 1) * 7));

    /* -- munmap --------------------------------------------------------------------------------------- */
    step("munmap page 3", munmap(a + 3 * PAGE, PAGE));
    in_child("read the unmapped page", peek, a + 3 * PAGE);
    step("mprotect across the hole", mprotect(a, 5 * PAGE, PROT_READ));
    step("munmap unaligned", munmap(a + 1, PAGE));
    step("munmap length 0", munmap(a, 0));
    step("munmap an unmapped range", munmap(a + 3 * PAGE, PAGE));
    unsigned char *fixed = mmap(a + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the hole: %d, zeroed %d\n", fixed == a + 3 * PAGE, fixed[0] == 0);
    void *nr = mmap(a, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE over a mapping: %s\n", nr == MAP_FAILED ? errname(errno) : "mapped");
    void *hint = mmap(a + 3 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("a hint on a used address is not used: %d\n", hint != a + 3 * PAGE && hint != MAP_FAILED);
    munmap(hint, PAGE);

    /* -- PROT_NONE reservations are not handed out again ---------------------------------------------- */
    char *res = mmap(NULL, 16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    int overlap = 0;
    for (int i = 0; i < 8; i++) {
        char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        overlap |= m >= res && m < res + 16 * PAGE;
    }
    printf("PROT_NONE reservation respected: %d\n", !overlap);
    step("mprotect inside the reservation", mprotect(res + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE));
    res[4 * PAGE] = 1;
    in_child("touch the reservation outside", poke, res);

    /* -- mremap ------------------------------------------------------------------------------------------ */
    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 0x5a, 2 * PAGE);
    unsigned char *blocker = mmap(m + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("blocker placed after it: %d\n", blocker == m + 2 * PAGE);
    void *r = mremap(m, 2 * PAGE, 4 * PAGE, 0);
    printf("mremap grow without MAYMOVE: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
    unsigned char *moved = mremap(m, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    printf("mremap grow with MAYMOVE moved: %d, kept data %d, new part zero %d\n", moved != m,
           moved[0] == 0x5a && moved[2 * PAGE - 1] == 0x5a, moved[2 * PAGE] == 0 && moved[4 * PAGE - 1] == 0);
    in_child("the old place is unmapped", peek, m);
    unsigned char *shrunk = mremap(moved, 4 * PAGE, PAGE, 0);
    printf("mremap shrink in place: %d, data %d\n", shrunk == moved, shrunk[0] == 0x5a);
    in_child("the shrunk tail is unmapped", peek, moved + 2 * PAGE);
    unsigned char *grown = mremap(shrunk, PAGE, 3 * PAGE, 0);
    printf("mremap grow in place: %d, data %d\n", grown == shrunk, grown[PAGE - 1] == 0x5a);
    unsigned char *target = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *fx = mremap(grown, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    printf("mremap MREMAP_FIXED: %d, data %d, writable %d\n", fx == target, fx[0] == 0x5a, (fx[1] = 3) == 3);
    r = mremap(fx, 3 * PAGE, 3 * PAGE, MREMAP_FIXED, target);
    printf("MREMAP_FIXED without MAYMOVE: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
    r = mremap((char *)fx + 1, PAGE, PAGE, 0);
    printf("mremap unaligned: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
    r = mremap(m, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
    printf("mremap of an unmapped range: %s\n", r == MAP_FAILED ? errname(errno) : "ok");

    /* -- madvise, mincore, msync, mlock --------------------------------------------------------------------- */
    step("madvise MADV_DONTNEED", madvise(fx, PAGE, MADV_DONTNEED));
    printf("DONTNEED zeroes: %d, mapping stays: %d\n", fx[0] == 0 && fx[1] == 0, (fx[2] = 9) == 9);
    step("madvise MADV_WILLNEED", madvise(fx, PAGE, MADV_WILLNEED));
    step("madvise bad advice", madvise(fx, PAGE, 12345));
    step("madvise unmapped", madvise(m, PAGE, MADV_DONTNEED));
    unsigned char vec[3];
    step("mincore", mincore(fx, 3 * PAGE, vec));
    printf("  first page resident: %d\n", vec[0] & 1);
    step("mincore unmapped", mincore(m, PAGE, vec));
    step("msync", msync(fx, PAGE, MS_SYNC));
    step("msync bad flags", msync(fx, PAGE, MS_SYNC | MS_ASYNC));
    step("mlock", mlock(fx, PAGE));
    step("munlock", munlock(fx, PAGE));

    /* -- file-backed mappings ---------------------------------------------------------------------------- */
    int fd = open("mapped.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < 2 * PAGE + 100; i++)
        write(fd, &(char){(char)('a' + i % 26)}, 1);
    char *f = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("file mmap: %d, bytes %c%c%c, past EOF zero %d\n", f != MAP_FAILED, f[0], f[1], f[PAGE],
           f[2 * PAGE + 100] == 0);
    f[0] = 'Z';
    char c;
    pread(fd, &c, 1, 0);
    printf("MAP_PRIVATE write stays private: %d\n", c == 'a');
    char *f2 = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    printf("file mmap at offset: %c\n", f2[0]);
    int ro = open("mapped.bin", O_RDONLY);
    void *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    printf("MAP_SHARED writable on a read-only fd: %s\n", sh == MAP_FAILED ? errname(errno) : "ok");
    int wo = open("mapped.bin", O_WRONLY);
    void *w = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0);
    printf("mmap of a write-only fd: %s\n", w == MAP_FAILED ? errname(errno) : "ok");
    int dirfd = open(".", O_RDONLY);
    void *dm = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dirfd, 0);
    printf("mmap of a directory: %s\n", dm == MAP_FAILED ? errname(errno) : "ok");
    close(fd), close(ro), close(wo), close(dirfd);
    unlink("mapped.bin");

    /* -- malloc still works after all this -------------------------------------------------------------- */
    char *big = malloc(3 << 20);
    memset(big, 1, 3 << 20);
    big = realloc(big, 6 << 20);
    printf("malloc/realloc 6 MiB: %d\n", big[(3 << 20) - 1] == 1);
    free(big);
    return 0;
}
