#include "vm.h"

volatile u64 tohost __attribute__((section(".tohost"), aligned(8)));
volatile u64 fromhost __attribute__((section(".tohost"), aligned(8)));

void htif_putchar(int c) { tohost = (1UL << 56) | (1UL << 48) | (u8)c; }
void htif_exit(int code) { for (;;) tohost = ((u64)code << 1) | 1; }
void (*vm_putchar)(int c) = htif_putchar;
void putstr(const char *s) { while (*s) vm_putchar(*s++); }
void puthex(u64 v) {
  putstr("0x");
  for (int i = 60; i >= 0; i -= 4) vm_putchar("0123456789abcdef"[(v >> i) & 15]);
}
void putdec(u64 v) {
  char b[24]; int n = 0;
  do { b[n++] = '0' + v % 10; v /= 10; } while (v);
  while (n) vm_putchar(b[--n]);
}

struct sbiret sbi_call(u64 ext, u64 fid, u64 a0, u64 a1, u64 a2) {
  register u64 r0 __asm__("a0") = a0, r1 __asm__("a1") = a1, r2 __asm__("a2") = a2;
  register u64 r6 __asm__("a6") = fid, r7 __asm__("a7") = ext;
  __asm__ volatile ("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
  return (struct sbiret){ (i64)r0, (i64)r1 };
}
void sbi_putchar(int c) { sbi_call(1, 0, c, 0, 0); }

/* mret into S-mode at fn with stack sp */
void enter_smode(void (*fn)(void), u64 sp) {
  u64 s = csr_read(mstatus);
  s = (s & ~(3UL << 11)) | (1UL << 11);
  csr_write(mstatus, s);
  csr_write(mepc, (u64)fn);
  __asm__ volatile ("mv sp, %0; mret" :: "r"(sp) : "memory");
  __builtin_unreachable();
}

/* the trap vector: save registers, call handle_trap, restore, return to the pc it gives */
__asm__(
  ".align 4\n.globl trap_entry\ntrap_entry:\n"
  "  addi sp, sp, -256\n"
  "  sd x1, 8(sp)\n sd x3, 24(sp)\n sd x4, 32(sp)\n sd x5, 40(sp)\n sd x6, 48(sp)\n sd x7, 56(sp)\n"
  "  sd x8, 64(sp)\n sd x9, 72(sp)\n sd x10, 80(sp)\n sd x11, 88(sp)\n sd x12, 96(sp)\n sd x13, 104(sp)\n"
  "  sd x14, 112(sp)\n sd x15, 120(sp)\n sd x16, 128(sp)\n sd x17, 136(sp)\n sd x18, 144(sp)\n"
  "  sd x19, 152(sp)\n sd x20, 160(sp)\n sd x21, 168(sp)\n sd x22, 176(sp)\n sd x23, 184(sp)\n"
  "  sd x24, 192(sp)\n sd x25, 200(sp)\n sd x26, 208(sp)\n sd x27, 216(sp)\n sd x28, 224(sp)\n"
  "  sd x29, 232(sp)\n sd x30, 240(sp)\n sd x31, 248(sp)\n"
  "  mv a0, sp\n csrr a1, mcause\n csrr a2, mepc\n csrr a3, mtval\n"
  "  call handle_trap\n csrw mepc, a0\n"
  "  ld x1, 8(sp)\n ld x3, 24(sp)\n ld x4, 32(sp)\n ld x5, 40(sp)\n ld x6, 48(sp)\n ld x7, 56(sp)\n"
  "  ld x8, 64(sp)\n ld x9, 72(sp)\n ld x10, 80(sp)\n ld x11, 88(sp)\n ld x12, 96(sp)\n ld x13, 104(sp)\n"
  "  ld x14, 112(sp)\n ld x15, 120(sp)\n ld x16, 128(sp)\n ld x17, 136(sp)\n ld x18, 144(sp)\n"
  "  ld x19, 152(sp)\n ld x20, 160(sp)\n ld x21, 168(sp)\n ld x22, 176(sp)\n ld x23, 184(sp)\n"
  "  ld x24, 192(sp)\n ld x25, 200(sp)\n ld x26, 208(sp)\n ld x27, 216(sp)\n ld x28, 224(sp)\n"
  "  ld x29, 232(sp)\n ld x30, 240(sp)\n ld x31, 248(sp)\n"
  "  addi sp, sp, 256\n mret\n");

/* -- virtio-mmio -- */
#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4

u64 virtio_find(u32 device_id, int *irq) {
  for (int n = 0; n < 8; n++) {
    u64 base = VIRTIO_MMIO + n * 0x1000UL;
    if (REG32(base + R_MAGIC) == 0x74726976 && REG32(base + R_DEVICE_ID) == device_id) {
      if (irq) *irq = n + 1;
      return base;
    }
  }
  return 0;
}

int virtio_init(u64 base, u32 features_lo, struct vq *queues, int nqueues) {
  REG32(base + R_STATUS) = 0;
  REG32(base + R_STATUS) = 1;
  REG32(base + R_STATUS) = 1 | 2;
  REG32(base + R_DEV_FEATURES_SEL) = 0;
  u32 offered = REG32(base + R_DEV_FEATURES);
  REG32(base + R_DRV_FEATURES_SEL) = 0;
  REG32(base + R_DRV_FEATURES) = offered & features_lo;
  REG32(base + R_DRV_FEATURES_SEL) = 1;
  REG32(base + R_DRV_FEATURES) = 1; /* VIRTIO_F_VERSION_1 */
  REG32(base + R_STATUS) = 1 | 2 | 8;
  if (!(REG32(base + R_STATUS) & 8)) return -1;
  for (int q = 0; q < nqueues; q++) {
    struct vq *vq = &queues[q];
    REG32(base + R_QUEUE_SEL) = q;
    if (REG32(base + R_QUEUE_NUM_MAX) < 8) return -2;
    REG32(base + R_QUEUE_NUM) = 8;
    REG32(base + R_DESC_LO) = (u32)(u64)vq->desc; REG32(base + R_DESC_HI) = (u64)vq->desc >> 32;
    REG32(base + R_AVAIL_LO) = (u32)(u64)&vq->avail_flags; REG32(base + R_AVAIL_HI) = (u64)&vq->avail_flags >> 32;
    REG32(base + R_USED_LO) = (u32)(u64)&vq->used_flags; REG32(base + R_USED_HI) = (u64)&vq->used_flags >> 32;
    REG32(base + R_QUEUE_READY) = 1;
  }
  REG32(base + R_STATUS) = 1 | 2 | 8 | 4;
  return 0;
}

int virtio_submit(u64 base, struct vq *vq, int q, u64 *addrs, u32 *lens, u16 *flags, int n) {
  for (int i = 0; i < n; i++) {
    vq->desc[i].addr = addrs[i];
    vq->desc[i].len = lens[i];
    vq->desc[i].flags = flags[i] | (i + 1 < n ? VQ_NEXT : 0);
    vq->desc[i].next = i + 1;
  }
  vq->avail_ring[vq->avail_idx % 8] = 0;
  __sync_synchronize();
  vq->avail_idx++;
  __sync_synchronize();
  REG32(base + R_QUEUE_NOTIFY) = q;
  return 0;
}

u32 virtio_wait(struct vq *vq, int use_wfi) {
  while (vq->used_idx == vq->last_used) {
    if (use_wfi) __asm__ volatile ("wfi");
  }
  u32 len = vq->used_ring[vq->last_used % 8].len;
  vq->last_used++;
  return len;
}

/* what the compiler may call for struct copies and zeroing */
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
