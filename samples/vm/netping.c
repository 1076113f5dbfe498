/* The other end of netecho: from 10.0.2.16, resolve 10.0.2.15 with ARP, send a UDP datagram "ping 1",
   print the echo, then send "quit". */
#include "vm.h"

#define BUF 1536
static struct vq vqs[2];
static u8 rxbuf[BUF] __attribute__((aligned(16)));
static u8 frame[BUF] __attribute__((aligned(16)));
static const u8 my_ip[4] = { 10, 0, 2, 16 }, peer_ip[4] = { 10, 0, 2, 15 };
static u8 my_mac[6], peer_mac[6];
static u64 base;

static void copy(u8 *d, const u8 *s, int n) { while (n--) *d++ = *s++; }

static void send(int len) {
  static u8 tx[BUF];
  for (int i = 0; i < 12; i++) tx[i] = 0;
  copy(tx + 12, frame, len);
  u64 addr = (u64)tx; u32 n = 12 + len; u16 flags = 0;
  virtio_submit(base, &vqs[1], 1, &addr, &n, &flags, 1);
  virtio_wait(&vqs[1], 0);
}

static u8 *receive(u32 *len) {
  u64 addr = (u64)rxbuf; u32 n = BUF; u16 flags = VQ_WRITE;
  virtio_submit(base, &vqs[0], 0, &addr, &n, &flags, 1);
  *len = virtio_wait(&vqs[0], 0) - 12;
  return rxbuf + 12;
}

static void udp(const char *msg, int n) {
  u8 *ip = frame + 14, *u = ip + 20;
  copy(frame, peer_mac, 6); copy(frame + 6, my_mac, 6); frame[12] = 8; frame[13] = 0;
  u16 total = 20 + 8 + n;
  ip[0] = 0x45; ip[1] = 0; ip[2] = total >> 8; ip[3] = total; ip[4] = 0; ip[5] = 1; ip[6] = 0; ip[7] = 0;
  ip[8] = 64; ip[9] = 17; ip[10] = ip[11] = 0;
  copy(ip + 12, my_ip, 4); copy(ip + 16, peer_ip, 4);
  u32 sum = 0;
  for (int i = 0; i < 20; i += 2) sum += ip[i] << 8 | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = ~sum >> 8; ip[11] = ~sum;
  u[0] = 0x30; u[1] = 0x39; u[2] = 0; u[3] = 7; u[4] = 0; u[5] = 8 + n; u[6] = u[7] = 0;
  copy(u + 8, (const u8 *)msg, n);
  send(14 + total);
}

int main(u64 hartid, u64 dtb) {
  base = virtio_find(1, 0);
  if (!base || virtio_init(base, 1u << 5, vqs, 2)) { putstr("no network\n"); return 2; }
  for (int i = 0; i < 6; i++) my_mac[i] = *(volatile u8 *)(base + 0x100 + i);
  for (int i = 0; i < 6; i++) frame[i] = 0xff;
  copy(frame + 6, my_mac, 6); frame[12] = 8; frame[13] = 6;
  const u8 arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
  copy(frame + 14, arp_head, 8); copy(frame + 22, my_mac, 6); copy(frame + 28, my_ip, 4);
  for (int i = 32; i < 38; i++) frame[i] = 0;
  copy(frame + 38, peer_ip, 4);
  send(42);
  u32 len;
  u8 *r = receive(&len);
  if (len < 42 || r[12] != 8 || r[13] != 6 || r[21] != 2) { putstr("no arp reply\n"); return 3; }
  copy(peer_mac, r + 22, 6);
  putstr("peer mac");
  for (int i = 0; i < 6; i++) { vm_putchar(i ? ':' : ' '); vm_putchar("0123456789abcdef"[peer_mac[i] >> 4]); vm_putchar("0123456789abcdef"[peer_mac[i] & 15]); }
  putstr("\n");
  udp("ping 1", 6);
  r = receive(&len);
  if (len < 48 || r[23] != 17) { putstr("no echo\n"); return 4; }
  putstr("echo: ");
  for (int i = 0; i < 6; i++) vm_putchar(r[42 + i]);
  putstr("\n");
  udp("quit", 4);
  return 0;
}
u64 handle_trap(struct frame *f, u64 cause, u64 epc, u64 tval) { htif_exit(9); }
