/* Reads 32 bytes from virtio-rng and prints them in hex. */
#include "vm.h"

static struct vq vq;
static u8 buf[32];

int main(u64 hartid, u64 dtb) {
  u64 base = virtio_find(4, 0);
  if (!base) { putstr("no entropy device\n"); return 2; }
  if (virtio_init(base, 0, &vq, 1)) { putstr("init failed\n"); return 3; }
  u64 addr = (u64)buf; u32 len = sizeof buf; u16 flags = VQ_WRITE;
  virtio_submit(base, &vq, 0, &addr, &len, &flags, 1);
  u32 got = virtio_wait(&vq, 0);
  putstr("entropy ");
  putdec(got);
  putstr(":");
  for (int i = 0; i < 32; i++) { vm_putchar("0123456789abcdef"[buf[i] >> 4]); vm_putchar("0123456789abcdef"[buf[i] & 15]); }
  putstr("\n");
  return 0;
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
