/* Console hello through virtio-console's transmit queue. */
#include "vm.h"

static struct vq vqs[2];
static const char msg[] = "hello from virtio-console\n";

int main(u64 hartid, u64 dtb) {
  u64 base = virtio_find(3, 0);
  if (!base || virtio_init(base, 0, vqs, 2)) return 2;
  u64 addr = (u64)msg; u32 len = sizeof msg - 1; u16 flags = 0;
  virtio_submit(base, &vqs[1], 1, &addr, &len, &flags, 1);
  virtio_wait(&vqs[1], 0);
  return 0;
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
