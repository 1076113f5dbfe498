/* Entry in M-mode on every hart: a0 = hart id, a1 = devicetree. Each hart gets 8 KiB of stack below
   __stack_top; hart 0 clears .bss and lets the others go on; then main(a0, a1) and an HTIF exit. */
  .section .text.init
  .globl _start
_start:
  la sp, __stack_top
  slli t0, a0, 13
  sub sp, sp, t0
  bnez a0, 3f
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  la t0, boot_done
  li t1, 1
  fence
  sw t1, 0(t0)
  j 4f
3:
  la t0, boot_done
5:
  lw t1, 0(t0)
  beqz t1, 5b
4:
  call main
  call htif_exit
6:
  j 6b

  .section .data
  .align 2
boot_done:
  .word 0
