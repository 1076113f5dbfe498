/* A tiny library for bare-metal guests of the dbt VMM: HTIF, SBI, console output, CSRs, traps,
   and a polling/interrupt-driven virtio-mmio driver with split virtqueues. */
#ifndef VM_H
#define VM_H
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long i64;

#define csr_read(csr) ({ u64 __v; __asm__ volatile ("csrr %0, " #csr : "=r"(__v)); __v; })
#define csr_write(csr, v) __asm__ volatile ("csrw " #csr ", %0" :: "r"((u64)(v)))
#define csr_set(csr, v) __asm__ volatile ("csrs " #csr ", %0" :: "r"((u64)(v)))
#define csr_clear(csr, v) __asm__ volatile ("csrc " #csr ", %0" :: "r"((u64)(v)))
#define REG32(a) (*(volatile u32 *)(u64)(a))
#define REG64(a) (*(volatile u64 *)(u64)(a))

#define CLINT_MTIMECMP 0x2004000UL
#define CLINT_MTIME 0x200BFF8UL
#define PLIC 0xC000000UL
#define VIRTIO_MMIO 0x10001000UL

/* trap frame saved by trap_entry (vm.c): x1..x31 */
struct frame { u64 x[32]; };
/* the C trap handler the sample provides; returns the pc to resume at */
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval);
void trap_entry(void);

void htif_putchar(int c);
void htif_exit(int code) __attribute__((noreturn));
void putstr(const char *s);
void puthex(u64 v);
void putdec(u64 v);
extern void (*vm_putchar)(int c);

struct sbiret { i64 error; i64 value; };
struct sbiret sbi_call(u64 ext, u64 fid, u64 a0, u64 a1, u64 a2);
void sbi_putchar(int c);
void enter_smode(void (*fn)(void), u64 sp);

/* virtio */
struct vq_desc { u64 addr; u32 len; u16 flags; u16 next; };
struct vq {
  struct vq_desc desc[8] __attribute__((aligned(16)));
  u16 avail_flags, avail_idx, avail_ring[8], used_event;
  u8 pad[4096 - 8 * 16 - 22];
  u16 used_flags; volatile u16 used_idx; struct { u32 id; u32 len; } used_ring[8];
  u16 last_used;
} __attribute__((aligned(4096)));
#define VQ_NEXT 1
#define VQ_WRITE 2
u64 virtio_find(u32 device_id, int *irq);
int virtio_init(u64 base, u32 features_lo, struct vq *queues, int nqueues);
/* make a chain of n buffers available in queue q and notify; returns the head index */
int virtio_submit(u64 base, struct vq *vq, int q, u64 *addrs, u32 *lens, u16 *flags, int n);
/* busy-wait (or wfi if use_wfi) until the queue has a used entry; returns its written length */
u32 virtio_wait(struct vq *vq, int use_wfi);
#endif
