/* Reads sectors 0..15 of the virtio disk (interrupt-driven: PLIC, wfi), checksums them (FNV-1a 64),
   writes a result sector at sector 16 ("dbt-sum" and the checksum), flushes, and reads the disk's ID. */
#include "vm.h"

#define SECTORS 16
static struct vq vq;
static struct { u32 type, reserved; u64 sector; } req;
static u8 data[SECTORS * 512] __attribute__((aligned(16)));
static u8 result[512];
static volatile u8 status;
static volatile int irqs, irq_seen;
static u64 base;
static int irq;

u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) {
  if (cause == ((1UL << 63) | 11)) {
    u32 src = REG32(PLIC + 0x200004);
    if (src == (u32)irq) {
      REG32(base + 0x064) = REG32(base + 0x060);  /* InterruptACK */
      irqs++;
      irq_seen = 1;
    }
    REG32(PLIC + 0x200004) = src;
    return epc;
  }
  putstr("unexpected trap "); puthex(cause); putstr("\n");
  htif_exit(7);
}

static int request(u32 type, u64 sector, void *buf, u32 len, int device_writes) {
  req.type = type; req.reserved = 0; req.sector = sector;
  status = 0xff;
  u64 addrs[3] = { (u64)&req, (u64)buf, (u64)&status };
  u32 lens[3] = { 16, len, 1 };
  u16 flags[3] = { 0, device_writes ? VQ_WRITE : 0, VQ_WRITE };
  if (len) virtio_submit(base, &vq, 0, addrs, lens, flags, 3);
  else {
    addrs[1] = (u64)&status; lens[1] = 1; flags[1] = VQ_WRITE;
    virtio_submit(base, &vq, 0, addrs, lens, flags, 2);
  }
  virtio_wait(&vq, 0);
  while (!irq_seen) __asm__ volatile ("wfi");   /* each request ends with one used-buffer interrupt */
  irq_seen = 0;
  return status;
}

int main(u64 hartid, u64 dtb) {
  base = virtio_find(2, &irq);
  if (!base) { putstr("no disk\n"); return 2; }
  csr_write(mtvec, (u64)trap_entry);
  REG32(PLIC + 4 * irq) = 1;                 /* priority */
  REG32(PLIC + 0x2000) = 1u << irq;          /* enable for context 0 (hart 0, M) */
  REG32(PLIC + 0x200000) = 0;                /* threshold */
  csr_set(mie, 1 << 11);
  csr_set(mstatus, 1 << 3);
  if (virtio_init(base, 1u << 9, &vq, 1)) { putstr("init failed\n"); return 3; }
  u64 capacity = REG64(base + 0x100);
  putstr("capacity "); putdec(capacity); putstr("\n");
  if (request(0, 0, data, sizeof data, 1)) { putstr("read failed\n"); return 4; }
  u64 h = 0xcbf29ce484222325UL;
  for (int i = 0; i < SECTORS * 512; i++) { h ^= data[i]; h *= 0x100000001b3UL; }
  putstr("checksum "); puthex(h); putstr("\n");
  const char tag[] = "dbt-sum";
  for (int i = 0; i < 8; i++) result[i] = tag[i];
  for (int i = 0; i < 8; i++) result[8 + i] = h >> (8 * i);
  if (request(1, SECTORS, result, 512, 0)) { putstr("write failed\n"); return 5; }
  if (request(4, 0, 0, 0, 0)) { putstr("flush failed\n"); return 6; }
  static char id[21];
  if (request(8, 0, id, 20, 1)) { putstr("get id failed\n"); return 8; }
  putstr("id "); putstr(id); putstr("\n");
  int past_end = request(0, capacity, data, 512, 1);
  putstr("read past the end: status "); putdec(past_end); putstr("\n");
  putstr("interrupts "); putdec(irqs); putstr("\n");
  return 0;
}
