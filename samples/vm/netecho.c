/* A network program: answers ARP requests for 10.0.2.15 and echoes UDP datagrams sent to it (swapping
   the addresses keeps the IPv4 and UDP checksums valid). A datagram "quit" ends the VM after the echo. */
#include "vm.h"

#define NRX 8
#define BUF 1536
static struct vq vqs[2];
static u8 rxbuf[NRX][BUF] __attribute__((aligned(16)));
static u8 txbuf[BUF] __attribute__((aligned(16)));
static const u8 my_ip[4] = { 10, 0, 2, 15 };
static u8 my_mac[6];
static u64 base;

static void copy(u8 *d, const u8 *s, int n) { while (n--) *d++ = *s++; }
static int same(const u8 *a, const u8 *b, int n) { while (n--) if (*a++ != *b++) return 0; return 1; }

static void post_rx(int i) {
  struct vq *vq = &vqs[0];
  vq->desc[i].addr = (u64)rxbuf[i]; vq->desc[i].len = BUF; vq->desc[i].flags = VQ_WRITE; vq->desc[i].next = 0;
  vq->avail_ring[vq->avail_idx % 8] = i;
  __sync_synchronize();
  vq->avail_idx++;
  __sync_synchronize();
  REG32(base + 0x050) = 0;
}

static void send(const u8 *frame, int len) {
  for (int i = 0; i < 12; i++) txbuf[i] = 0;
  copy(txbuf + 12, frame, len);
  u64 addr = (u64)txbuf; u32 n = 12 + len; u16 flags = 0;
  virtio_submit(base, &vqs[1], 1, &addr, &n, &flags, 1);
  virtio_wait(&vqs[1], 0);
}

/* returns 1 when the frame was the last one */
static int handle(u8 *f, int len) {
  static u8 out[BUF];
  u16 type = f[12] << 8 | f[13];
  if (type == 0x0806 && len >= 42 && f[21] == 1 && same(f + 38, my_ip, 4)) {
    copy(out, f + 6, 6); copy(out + 6, my_mac, 6); out[12] = 8; out[13] = 6;
    copy(out + 14, f + 14, 6); out[20] = 0; out[21] = 2;            /* htype, ptype, sizes; reply */
    copy(out + 22, my_mac, 6); copy(out + 28, my_ip, 4);
    copy(out + 32, f + 22, 6); copy(out + 38, f + 28, 4);
    send(out, 42);
    putstr("arp reply\n");
    return 0;
  }
  if (type == 0x0800 && len >= 42 && f[23] == 17 && same(f + 30, my_ip, 4)) {
    int ihl = (f[14] & 15) * 4;
    u8 *udp = f + 14 + ihl;
    copy(out, f, len);
    copy(out, f + 6, 6); copy(out + 6, my_mac, 6);
    copy(out + 26, f + 30, 4); copy(out + 30, f + 26, 4);
    u8 *oudp = out + 14 + ihl;
    copy(oudp, udp + 2, 2); copy(oudp + 2, udp, 2);
    send(out, len);
    int plen = (udp[4] << 8 | udp[5]) - 8;
    putstr("udp echo "); putdec(plen); putstr("\n");
    return plen == 4 && same(udp + 8, (const u8 *)"quit", 4);
  }
  return 0;
}

int main(u64 hartid, u64 dtb) {
  base = virtio_find(1, 0);
  if (!base || virtio_init(base, 1u << 5, vqs, 2)) { putstr("no network\n"); return 2; }
  for (int i = 0; i < 6; i++) my_mac[i] = *(volatile u8 *)(base + 0x100 + i);
  for (int i = 0; i < NRX; i++) post_rx(i);
  putstr("listening\n");
  for (;;) {
    struct vq *vq = &vqs[0];
    while (vq->used_idx == vq->last_used) {}
    u32 id = vq->used_ring[vq->last_used % 8].id;
    u32 len = vq->used_ring[vq->last_used % 8].len;
    vq->last_used++;
    int last = len > 12 && handle(rxbuf[id] + 12, len - 12);
    post_rx(id);
    if (last) return 0;
  }
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
