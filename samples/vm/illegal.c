/* Exceptions caught by the guest's own M-mode handler: an illegal instruction, a write to a read-only
   CSR, an M-mode CSR read from U-mode, a load from an unmapped address, an ecall from U-mode. */
#include "vm.h"

static u64 ustack[256];
static volatile int step;

u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) {
  putstr("trap cause "); putdec(cause);
  putstr(" tval "); puthex(tval);
  putstr(" mpp "); putdec((csr_read(mstatus) >> 11) & 3);
  putstr("\n");
  step++;
  if (cause == 8) {           /* ecall from U-mode: done */
    putstr("traps handled: "); putdec(step); putstr("\n");
    htif_exit(step == 5 ? 0 : 1);
  }
  u16 low = *(u16 *)epc;
  return epc + ((low & 3) == 3 ? 4 : 2);
}

static void umain(void) {
  u64 v;
  __asm__ volatile ("csrr %0, mstatus" : "=r"(v));   /* illegal from U-mode */
  __asm__ volatile ("ecall");
}

int main(u64 hartid, u64 dtb) {
  csr_write(mtvec, (u64)trap_entry);
  __asm__ volatile (".word 0xffffffff");             /* not an instruction */
  __asm__ volatile ("csrw cycle, zero");             /* read-only CSR */
  volatile u32 *nowhere = (u32 *)0x1000;
  u32 x = *nowhere;                                  /* nothing is mapped there */
  (void)x;
  /* drop to U-mode */
  u64 s = csr_read(mstatus);
  csr_write(mstatus, s & ~(3UL << 11));
  csr_write(mepc, (u64)umain);
  __asm__ volatile ("mv sp, %0; mret" :: "r"(&ustack[256]) : "memory");
  return 1;
}
