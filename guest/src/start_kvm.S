/*
 * start_kvm.S — the guest's entry point in the microVM. There is no kernel and no musl startup
 * (__libc_start_main makes syscalls): the host enters here at CPL3 in long mode with
 *   RSP = top of guest RAM, RDI = &fn_boot_info (FN_BOOT_INFO_ADDR), FS base = FN_TLS_ADDR.
 * This only puts the CPU into the state C code expects and calls fn_kvm_entry, which fills musl's
 * thread block before any libc function runs.
 */
	.section .text.fn_start,"ax",@progbits
	.globl _start
	.type _start,@function
_start:
	cld                         /* the ABI requires DF = 0 on function entry */
	fninit                      /* x87 control word 0x37f: double-extended precision, masked */
	ldmxcsr fn_default_mxcsr(%rip) /* SSE: round to nearest, all exceptions masked */
	xor %ebp, %ebp              /* terminate frame-pointer chains for debuggers */
	and $-16, %rsp              /* the call below leaves RSP+8 16-aligned, as the ABI expects */
	call fn_kvm_entry           /* RDI still holds the boot info address */
	ud2                         /* fn_kvm_entry never returns: fault loudly if it did */
	.size _start, . - _start

	.section .rodata.fn_start,"a",@progbits
	.balign 4
fn_default_mxcsr:
	.long 0x1f80

	.section .note.GNU-stack,"",@progbits
