/* interp: a small register-machine bytecode interpreter with a
 * switch-dispatch loop.  Runs two generated programs: counting primes below
 * N by trial division, and the longest Collatz chain for starts below N.
 * Usage: interp [N] (default 3000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { HALT, LI, MOV, ADD, SUB, MUL, DIVU, REM, ADDI, SHR, AND, JMP, JLT, JEQI, JNEI, PRINT };
static const char *const names[] = {"halt", "li", "mov", "add", "sub", "mul", "div", "rem",
                                    "addi", "shr", "and", "jmp", "jlt", "jeqi", "jnei", "print"};

typedef struct { uint8_t op, a, b, c; int32_t imm; } Insn;

static Insn code[64];
static int ncode;
static long steps;

static int emit(int op, int a, int b, int c, int32_t imm)
{
    code[ncode] = (Insn){(uint8_t)op, (uint8_t)a, (uint8_t)b, (uint8_t)c, imm};
    return ncode++;
}
#define HERE ncode
#define PATCH(at) (code[at].imm = ncode)

static void run(const char *title)
{
    int64_t r[16] = {0};
    int pc = 0;
    printf("-- %s (%d instructions) --\n", title, ncode);
    for (;;) {
        const Insn *i = &code[pc++];
        steps++;
        switch (i->op) {
        case HALT: return;
        case LI: r[i->a] = i->imm; break;
        case MOV: r[i->a] = r[i->b]; break;
        case ADD: r[i->a] = r[i->b] + r[i->c]; break;
        case SUB: r[i->a] = r[i->b] - r[i->c]; break;
        case MUL: r[i->a] = r[i->b] * r[i->c]; break;
        case DIVU: r[i->a] = (int64_t)((uint64_t)r[i->b] / (uint64_t)r[i->c]); break;
        case REM: r[i->a] = r[i->b] % r[i->c]; break;
        case ADDI: r[i->a] = r[i->b] + i->imm; break;
        case SHR: r[i->a] = (int64_t)((uint64_t)r[i->b] >> i->imm); break;
        case AND: r[i->a] = r[i->b] & i->imm; break;
        case JMP: pc = i->imm; break;
        case JLT: if (r[i->a] < r[i->b]) pc = i->imm; break;
        case JEQI: if (r[i->a] == i->c) pc = i->imm; break;
        case JNEI: if (r[i->a] != i->c) pc = i->imm; break;
        case PRINT: printf("r%d = %lld\n", i->a, (long long)r[i->a]); break;
        default: printf("bad opcode %d at %d\n", i->op, pc - 1); exit(1);
        }
    }
}

static void primes(int32_t n)
{
    /* r0 = n, r1 = candidate, r2 = count, r3 = sum, r4 = divisor */
    ncode = 0;
    emit(LI, 0, 0, 0, n);
    emit(LI, 1, 0, 0, 2);
    emit(LI, 2, 0, 0, 0);
    emit(LI, 3, 0, 0, 0);
    int outer = HERE;
    emit(JLT, 1, 0, 0, HERE + 2);          /* candidate < n: continue */
    int to_done = emit(JMP, 0, 0, 0, 0);
    emit(LI, 4, 0, 0, 2);
    int inner = HERE;
    emit(MUL, 5, 4, 4, 0);
    int to_prime = emit(JLT, 1, 5, 0, 0);  /* candidate < d*d: prime */
    emit(REM, 6, 1, 4, 0);
    int to_next = emit(JEQI, 6, 0, 0, 0);  /* divisible: not prime */
    emit(ADDI, 4, 4, 0, 1);
    emit(JMP, 0, 0, 0, inner);
    PATCH(to_prime);
    emit(ADDI, 2, 2, 0, 1);
    emit(ADD, 3, 3, 1, 0);
    PATCH(to_next);
    emit(ADDI, 1, 1, 0, 1);
    emit(JMP, 0, 0, 0, outer);
    PATCH(to_done);
    emit(PRINT, 2, 0, 0, 0);
    emit(PRINT, 3, 0, 0, 0);
    emit(HALT, 0, 0, 0, 0);
    run("primes");
}

static void collatz(int32_t n)
{
    /* r0 = n, r1 = start, r2 = x, r3 = length, r4 = best length, r5 = best start */
    ncode = 0;
    emit(LI, 0, 0, 0, n);
    emit(LI, 1, 0, 0, 1);
    emit(LI, 4, 0, 0, 0);
    emit(LI, 5, 0, 0, 0);
    int outer = HERE;
    emit(JLT, 1, 0, 0, HERE + 2);
    int to_done = emit(JMP, 0, 0, 0, 0);
    emit(MOV, 2, 1, 0, 0);
    emit(LI, 3, 0, 0, 0);
    int loop = HERE;
    int to_end = emit(JEQI, 2, 0, 1, 0);   /* x == 1: chain ends */
    emit(ADDI, 3, 3, 0, 1);
    emit(AND, 6, 2, 0, 1);
    int to_odd = emit(JNEI, 6, 0, 0, 0);
    emit(SHR, 2, 2, 0, 1);                 /* even: x /= 2 */
    emit(JMP, 0, 0, 0, loop);
    PATCH(to_odd);
    emit(LI, 7, 0, 0, 3);                  /* odd: x = 3x + 1 */
    emit(MUL, 2, 2, 7, 0);
    emit(ADDI, 2, 2, 0, 1);
    emit(JMP, 0, 0, 0, loop);
    PATCH(to_end);
    emit(JLT, 4, 3, 0, HERE + 2);          /* best < length: new best */
    int to_next = emit(JMP, 0, 0, 0, 0);
    emit(MOV, 4, 3, 0, 0);
    emit(MOV, 5, 1, 0, 0);
    PATCH(to_next);
    emit(ADDI, 1, 1, 0, 1);
    emit(JMP, 0, 0, 0, outer);
    PATCH(to_done);
    emit(PRINT, 5, 0, 0, 0);
    emit(PRINT, 4, 0, 0, 0);
    emit(HALT, 0, 0, 0, 0);
    run("collatz");
}

int main(int argc, char **argv)
{
    int32_t n = argc > 1 ? atoi(argv[1]) : 3000;
    primes(n);
    collatz(n);
    printf("listing of the collatz program:\n");
    for (int i = 0; i < ncode; i++)
        printf("  %2d: %-5s %d %d %d %d\n", i, names[code[i].op], code[i].a, code[i].b, code[i].c, code[i].imm);
    printf("interpreted steps: %ld\n", steps);
    return 0;
}
