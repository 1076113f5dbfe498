/* Console hello through virtio-console's transmit queue, then one read from its receive queue, echoed. */
#include "vm.h"

static struct vq vqs[2];
static const char msg[] = "hello from virtio-console\n";
static char line[64];
static char reply[80];

static void transmit(const char *s, u32 len) {
  u64 addr = (u64)s; u16 flags = 0;
  virtio_submit(VIRTIO_MMIO, &vqs[1], 1, &addr, &len, &flags, 1);
  virtio_wait(&vqs[1], 0);
}

int main(u64 hartid, u64 dtb) {
  u64 base = virtio_find(3, 0);
  if (base != VIRTIO_MMIO || virtio_init(base, 0, vqs, 2)) return 2;
  transmit(msg, sizeof msg - 1);
  u64 addr = (u64)line; u32 len = sizeof line; u16 flags = VQ_WRITE;
  virtio_submit(base, &vqs[0], 0, &addr, &len, &flags, 1);
  u32 got = virtio_wait(&vqs[0], 0);
  const char head[] = "got: ";
  u32 n = 0;
  for (; head[n]; n++) reply[n] = head[n];
  for (u32 i = 0; i < got; i++) reply[n++] = line[i];
  transmit(reply, n);
  return 0;
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
