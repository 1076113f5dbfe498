/* smc: RISC-V self-modifying code (riscv64 only).
 * Usage: smc [N]  (calls of the patched function, default 20000)
 * Part 1 writes a tiny function into an RWX page and calls it in a loop,
 * rewriting its first instruction (opcode and immediate) every 1000 calls.
 * Part 2 runs a function whose own loop stores a new instruction over an
 * instruction of the same loop body, executes fence.i and goes on. */
#if !defined(__riscv) || __riscv_xlen != 64
#error "smc.c is for riscv64 only"
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

enum { ZERO = 0, RA = 1, T0 = 5, A0 = 10, A1 = 11, A2 = 12, A3 = 13 };

static uint32_t itype(uint32_t op, uint32_t f3, int rd, int rs1, int32_t imm)
{
    return (uint32_t)(imm & 0xfff) << 20 | (uint32_t)rs1 << 15 | f3 << 12 | (uint32_t)rd << 7 | op;
}
static uint32_t addi(int rd, int rs1, int32_t imm) { return itype(0x13, 0, rd, rs1, imm); }
static uint32_t xori(int rd, int rs1, int32_t imm) { return itype(0x13, 4, rd, rs1, imm); }
static uint32_t slli(int rd, int rs1, int sh) { return itype(0x13, 1, rd, rs1, sh & 63); }
static uint32_t sw(int rs2, int rs1, int32_t imm)
{
    return (uint32_t)(imm >> 5 & 0x7f) << 25 | (uint32_t)rs2 << 20 | (uint32_t)rs1 << 15 | 2u << 12 |
           (uint32_t)(imm & 0x1f) << 7 | 0x23;
}
static uint32_t bne(int rs1, int rs2, int32_t off)
{
    return (uint32_t)(off >> 12 & 1) << 31 | (uint32_t)(off >> 5 & 0x3f) << 25 | (uint32_t)rs2 << 20 |
           (uint32_t)rs1 << 15 | 1u << 12 | (uint32_t)(off >> 1 & 0xf) << 8 | (uint32_t)(off >> 11 & 1) << 7 |
           0x63;
}
#define RET 0x00008067u     /* jalr zero, 0(ra) */
#define FENCE_I 0x0000100fu

static void sync_icache(void) { __asm__ volatile("fence.i" ::: "memory"); }

/* the patch applied after `round` rounds of 1000 calls, and its C model */
static uint32_t patch_insn(long round, long *kind, long *k)
{
    *kind = round % 3;
    *k = (round * 37) % 1500 - 700;
    if (*kind == 0)
        return addi(A0, A0, (int32_t)*k);
    if (*kind == 1)
        return xori(A0, A0, (int32_t)*k);
    *k &= 7;
    return slli(A0, A0, (int)*k);
}
static long model(long kind, long k, long x)
{
    return kind == 0 ? x + k : kind == 1 ? x ^ k : (long)((unsigned long)x << k);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    volatile uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return perror("mmap"), 1;

    /* part 1: f(x) = x OP k, rewritten from the calling loop */
    long kind, k;
    page[0] = patch_insn(0, &kind, &k);
    page[1] = RET;
    sync_icache();
    long (*f)(long) = (long (*)(long))(uintptr_t)page;
    unsigned long sum = 0, expect = 0;
    long patches = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0 && i % 1000 == 0) {
            page[0] = patch_insn(i / 1000, &kind, &k);
            sync_icache();
            patches++;
        }
        sum += (unsigned long)f(i);
        expect += (unsigned long)model(kind, k, i);
    }
    printf("part 1: %ld calls, %ld patches, sum=%lu expected=%lu %s\n", n, patches, sum, expect,
           sum == expect ? "ok" : "MISMATCH");

    /* part 2: g(count, at, &P, insn) loops `count` times adding 1 at P; when
     * the counter reaches `at`, it stores insn over P and executes fence.i */
    volatile uint32_t *g = page + 16;
    g[0] = addi(T0, A0, 0);          /* t0 = count */
    g[1] = addi(A0, ZERO, 0);        /* a0 = 0 */
    g[2] = addi(A0, A0, 1);          /* loop: P: a0 += 1 */
    g[3] = addi(T0, T0, -1);         /* t0 -= 1 */
    g[4] = bne(T0, A1, 12);          /* t0 != at: skip the patch */
    g[5] = sw(A3, A2, 0);            /* *P = insn */
    g[6] = FENCE_I;
    g[7] = bne(T0, ZERO, -20);       /* t0 != 0: loop */
    g[8] = RET;
    long (*gf)(long, long, volatile uint32_t *, long) =
        (long (*)(long, long, volatile uint32_t *, long))(uintptr_t)g;
    long rounds = n / 1000 + 1, count = 1000, ok = 0;
    unsigned long total = 0;
    for (long r = 0; r < rounds; r++) {
        long at = (r * 263) % count, step = r % 5 + 2;
        g[2] = addi(A0, A0, 1); /* restore P */
        sync_icache();
        long got = gf(count, at, &g[2], (long)addi(A0, A0, (int32_t)step));
        long want = (count - at) + at * step;
        ok += got == want;
        total += (unsigned long)got;
        if (r < 3)
            printf("part 2: round %ld patch at %ld to +%ld: %ld (expected %ld)\n", r, at, step, got, want);
    }
    printf("part 2: %ld rounds, %ld ok, total=%lu\n", rounds, ok, total);
    return 0;
}
