/* Two harts: hart 1 waits in wfi for a software interrupt (CLINT msip) that hart 0 sends, then both
   add to a shared counter with amoadd; hart 0 prints what happened. */
#include "vm.h"

#define CLINT_MSIP 0x2000000UL
static volatile u64 counter, ipis, ready, finished;

u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) {
  if (cause == ((1UL << 63) | 3)) {
    REG32(CLINT_MSIP + 4 * csr_read(mhartid)) = 0;
    ipis++;
    return epc;
  }
  htif_exit(20 + (int)(cause & 15));
}

int main(u64 hartid, u64 dtb) {
  if (hartid == 1) {
    csr_write(mtvec, (u64)trap_entry);
    csr_set(mie, 1 << 3);
    csr_set(mstatus, 1 << 3);
    ready = 1;
    while (!ipis) __asm__ volatile ("wfi");
    for (int i = 0; i < 1000; i++) __atomic_fetch_add(&counter, 2, __ATOMIC_SEQ_CST);
    finished = 1;
    for (;;) __asm__ volatile ("wfi");
  }
  if (hartid != 0) for (;;) {}
  while (!ready) {}
  REG32(CLINT_MSIP + 4) = 1;          /* IPI to hart 1 */
  for (int i = 0; i < 1000; i++) __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
  while (!finished) {}
  putstr("hart 1 got "); putdec(ipis); putstr(" IPI, counter "); putdec(counter); putstr("\n");
  return 0;
}
