/* Console hello: HTIF putchar in M-mode, then S-mode through mret, where the monitor's SBI prints
   (legacy putchar and the debug console) and ends the VM with a system reset. */
#include "vm.h"

static u64 sstack[512];
static const char dbcn[] = "hello from the SBI debug console\n";

static void smain(void) {
  vm_putchar = sbi_putchar;
  putstr("hello from S-mode, SBI spec version ");
  struct sbiret r = sbi_call(0x10, 0, 0, 0, 0);
  puthex(r.value);
  putstr("\n");
  sbi_call(0x4442434E, 0, sizeof dbcn - 1, (u64)dbcn, 0);
  sbi_call(0x53525354, 0, 0, 0, 0); /* shutdown */
  for (;;) {}
}

int main(u64 hartid, u64 dtb) {
  putstr("hello from M-mode, hart ");
  putdec(hartid);
  putstr(", devicetree magic ");
  u32 magic = *(volatile u32 *)dtb;
  puthex(__builtin_bswap32(magic));
  putstr("\n");
  enter_smode(smain, (u64)&sstack[512]);
  return 1;
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(3); }
