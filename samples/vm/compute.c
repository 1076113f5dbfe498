/* The same compute loop for system mode (bare metal, this VMM) and user mode (-DUSER, Linux): an
   integer mix over a table, so the two modes can be compared on identical code. */
#ifdef USER
#include <stdio.h>
typedef unsigned long u64;
#else
#include "vm.h"
#endif

#define ROUNDS 4000
static u64 table[1024];

__attribute__((noinline)) static u64 kernel(int rounds) {
  u64 x = 0x9E3779B97F4A7C15UL, acc = 0;
  for (int i = 0; i < 1024; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; table[i] = x; }
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < 1024; i++) {
      u64 v = table[i] * 0x100000001B3UL + acc;
      acc ^= v >> (r & 31);
      table[i] = v;
    }
  return acc;
}

int main(void) {
  u64 r = kernel(ROUNDS);
#ifdef USER
  printf("result %016lx\n", r);
#else
  putstr("result "); puthex(r); putstr("\n");
#endif
  return 0;
}
#ifndef USER
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
#endif
