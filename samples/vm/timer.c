/* Timer interrupts counted by trap handlers: five M-mode timer interrupts from the CLINT, then three
   S-mode timer interrupts from SBI set_timer (delegated through mideleg), waiting in wfi. */
#include "vm.h"

#define TICK 20000UL  /* 2 ms at 10 MHz */
static volatile u64 mticks, sticks;
static u64 sstack[512];

u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) {
  if (cause == ((1UL << 63) | 7)) {
    mticks++;
    REG64(CLINT_MTIMECMP) = mticks < 5 ? REG64(CLINT_MTIME) + TICK : ~0UL;
    return epc;
  }
  putstr("unexpected M-mode trap "); puthex(cause); putstr("\n");
  htif_exit(2);
}

static void strap(void) __attribute__((interrupt("supervisor"), aligned(4)));
static void strap(void) {
  u64 cause = csr_read(scause);
  if (cause != ((1UL << 63) | 5)) htif_exit(4);
  sticks++;
  u64 now = csr_read(time);
  sbi_call(0x54494D45, 0, sticks < 3 ? now + TICK : ~0UL, 0, 0);
}

static void smain(void) {
  csr_write(stvec, (u64)strap);
  csr_set(sie, 1 << 5);
  csr_set(sstatus, 1 << 1);
  sbi_call(0x54494D45, 0, csr_read(time) + TICK, 0, 0);
  while (sticks < 3) __asm__ volatile ("wfi");
  vm_putchar = sbi_putchar;
  putstr("S-mode timer interrupts: "); putdec(sticks); putstr("\n");
  htif_exit(sticks == 3 ? 0 : 5);
}

int main(u64 hartid, u64 dtb) {
  csr_write(mtvec, (u64)trap_entry);
  REG64(CLINT_MTIMECMP) = REG64(CLINT_MTIME) + TICK;
  csr_set(mie, 1 << 7);
  csr_set(mstatus, 1 << 3);
  while (mticks < 5) __asm__ volatile ("wfi");
  csr_clear(mstatus, 1 << 3);
  putstr("M-mode timer interrupts: "); putdec(mticks); putstr("\n");
  /* hand the supervisor timer to S-mode; without an M-mode vector the monitor serves SBI */
  csr_write(mideleg, 1 << 5);
  csr_write(mtvec, 0);
  csr_write(mcounteren, 7);
  enter_smode(smain, (u64)&sstack[512]);
  return 1;
}
