# probe_guest.S — a tiny kernel-less guest for checking the VMM on a host with /dev/kvm.
#
# It checks what the VMM promised at boot (RDI = boot info, boot magic, a usable stack, a writable TLS
# page at the FS base), rings READY, then serves commands. The first input byte picks a scenario, so
# one ELF exercises every exit path; see test/kvm_scenarios.cjs for the expected outcome of each.
# Each faulting instruction has an `at_*` label (a local symbol in the ELF's symbol table), so the
# scenarios can check that a fault report names exactly that RIP.
# Built by test/run.sh with: gcc -nostdlib -static -no-pie (a real ET_EXEC from the real linker).
        .intel_syntax noprefix
        .set WINDOW,       0x100000000
        .set DATA,         0x1000
        .set H_INPUT_LEN,  12
        .set H_STATUS,     0x40
        .set H_OUTPUT_LEN, 0x44
        .set H_GUEST_NS,   0x48
        .set H_HEAP_USED,  0x50
        .set H_HEAP_PEAK,  0x58
        .set H_SLEEP_NS,   0x60
        .set DOORBELL,     0xE0
        .set EV_READY, 1
        .set EV_DONE,  2
        .set EV_PANIC, 3
        .set EV_SLEEP, 4

        .text
        .globl _start
_start:
        cmp rdi, 0x6000                       # FN_BOOT_INFO_ADDR
        jne fail
        cmp dword ptr [rdi], 0x544f4f42       # FN_BOOT_MAGIC
        jne fail
        test rsp, 15                          # 16-byte aligned stack
        jnz fail
        mov rax, qword ptr fs:[0]             # TLS page readable...
        mov qword ptr fs:[8], rax             # ...and writable
        push rax                              # stack writable
        pop rax
        mov qword ptr fs:[0x10], 0x5a17       # the TLS marker 'S' reads back through FS
        xor r14d, r14d                        # the register counter 'i' reports
        mov r15, WINDOW
        mov edx, DOORBELL
        mov eax, EV_READY
        out dx, eax

serve:
        movzx eax, byte ptr [r15 + DATA]      # scenario = input[0]
        cmp al, 0x73                          # 's' spin forever -> timeout
        je spin
        cmp al, 0x63                          # 'c' syscall -> syscall (39)
        je do_syscall
        cmp al, 0x6e                          # 'n' NULL read -> guest_fault, cr2 0
        je null_read
        cmp al, 0x70                          # 'p' out to 0x3f8 (denied by the bitmap) -> guest_fault
        je bad_port
        cmp al, 0x78                          # 'x' out al to 0xE2 (allowed, not the doorbell) -> bad_io
        je odd_port
        cmp al, 0x66                          # 'f' out al to 0xE1 from CPL3 -> bad_io (not the stub)
        je fake_syscall
        cmp al, 0x77                          # 'w' doorbell with `out dx, al` -> bad_io
        je wrong_size
        cmp al, 0x68                          # 'h' output_len 0xFFFFFFFF -> bad_window
        je hostile_len
        cmp al, 0x74                          # 't' status 9 -> bad_window
        je hostile_status
        cmp al, 0x7a                          # 'z' SLEEP 2 ms, then echo
        je nap
        cmp al, 0x50                          # 'P' PANIC "boom" -> event 3, VM dead
        je panic
        cmp al, 0x48                          # 'H' hlt at CPL3 -> guest_fault (#GP)
        je halt
        cmp al, 0x58                          # 'X' execute from the stack (NX) -> guest_fault
        je exec_stack
        cmp al, 0x62                          # 'b' write boot info (user read-only) -> guest_fault, cr2 0x6000
        je write_boot
        cmp al, 0x67                          # 'g' read the GDT (supervisor) -> guest_fault, cr2 0x1000
        je read_gdt
        cmp al, 0x75                          # 'u' ring an unknown event (99) -> bad_io
        je unknown_event
        cmp al, 0x5a                          # 'Z' ask to sleep 60 s, forever (for close/timeout)
        je long_nap
        cmp al, 0x47                          # 'G' write the stack guard page -> guest_fault, cr2 = the guard
        je write_guard
        cmp al, 0x4f                          # 'O' recurse until the stack overflows -> guest_fault, cr2 in the guard
        je overflow
        # Snapshot / restore / reset: state in RAM, registers, SSE, segments and the window.
        cmp al, 0x69                          # 'i' count: [counter] += 1, r14 += 1; answer both (u64, u64)
        je count
        cmp al, 0x54                          # 'T' touch the 8 (or 8 x input[1]) pages below heap_end: answer how many were not zero
        je touch
        cmp al, 0x55                          # 'U' zero the pages 'T' writes (same count rule)
        je untouch
        cmp al, 0x46                          # 'F' mov fs, 0x1b: the FS base becomes 0
        je break_fs
        cmp al, 0x53                          # 'S' answer fs:[0x10] (the TLS marker; faults at 0x10 if FS is broken)
        je read_tls
        cmp al, 0x4d                          # 'M' answer MXCSR, then set it to 0x7f80
        je flip_mxcsr
        cmp al, 0x57                          # 'W' write a marker at window data + 0x64000, report nothing
        je scribble
        cmp al, 0x52                          # 'R' answer the window data qwords at +8 and +0x64000
        je peek
        cmp al, 0x64                          # 'd' ud2 -> guest_fault #UD (6)
        je undefined
        cmp al, 0x76                          # 'v' divide by zero -> guest_fault #DE (0), no CPU error code
        je divide
        cmp al, 0x6b                          # 'k' int3 through a DPL0 gate -> guest_fault #GP (13), error 0x1a
        je breakpoint
        cmp al, 0x71                          # 'q' out to the fault port from CPL3 -> guest_fault #GP, not a forged report
        je forge_fault
        # Privileged instructions at CPL3 and reads outside guest memory: each a #GP or #PF.
        cmp al, 0x6d                          # 'm' wrmsr (EFER) -> guest_fault #GP(0)
        je write_msr
        cmp al, 0x6c                          # 'l' cli -> guest_fault #GP(0)
        je clear_if
        cmp al, 0x4c                          # 'L' lgdt -> guest_fault #GP(0)
        je load_gdt
        cmp al, 0x6f                          # 'o' read the first byte past guest RAM -> #PF, cr2 = mem_size
        je past_ram
        cmp al, 0x41                          # 'A' read 64 KiB past the end of the window -> #PF
        je past_window
        cmp al, 0x4e                          # 'N' read a non-canonical address -> #GP(0)
        je non_canonical
        cmp al, 0x79                          # 'y' output_len FN_WINDOW_DATA_MAX + 1 -> bad_window
        je len_past_max
                                              # anything else: echo the input back
echo:
        mov eax, dword ptr [r15 + H_INPUT_LEN]
# DONE with eax = output_len bytes of output already at window data.
reply:
        mov dword ptr [r15 + H_OUTPUT_LEN], eax
        mov dword ptr [r15 + H_STATUS], 0
        mov qword ptr [r15 + H_GUEST_NS], 7
        mov qword ptr [r15 + H_HEAP_USED], 4096
        mov qword ptr [r15 + H_HEAP_PEAK], 8192
        mov edx, DOORBELL
        mov eax, EV_DONE
        out dx, eax
        jmp serve

spin:
        jmp spin

do_syscall:
        mov eax, 39
        syscall
after_syscall:                                # the return RIP the syscall report names (RCX)
        jmp fail

null_read:
        xor eax, eax
at_null_read:
        mov rax, qword ptr [rax]
        jmp fail

bad_port:
        mov edx, 0x3f8
at_bad_port:
        out dx, al
        jmp fail

odd_port:
        mov edx, 0xE2
        out dx, al
        jmp fail

fake_syscall:
        mov edx, 0xE1
        out dx, al
        jmp fail

wrong_size:
        mov edx, DOORBELL
        mov al, EV_DONE
        out dx, al
        jmp fail

hostile_len:
        mov dword ptr [r15 + H_OUTPUT_LEN], 0xFFFFFFFF
        mov edx, DOORBELL
        mov eax, EV_DONE
        out dx, eax
        jmp fail

hostile_status:
        mov dword ptr [r15 + H_OUTPUT_LEN], 0
        mov dword ptr [r15 + H_STATUS], 9
        mov edx, DOORBELL
        mov eax, EV_DONE
        out dx, eax
        jmp fail

nap:
        mov qword ptr [r15 + H_SLEEP_NS], 2000000
        mov edx, DOORBELL
        mov eax, EV_SLEEP
        out dx, eax
        jmp echo

long_nap:
        mov rax, 60000000000
        mov qword ptr [r15 + H_SLEEP_NS], rax
        mov edx, DOORBELL
        mov eax, EV_SLEEP
        out dx, eax
        jmp long_nap

panic:
        mov dword ptr [r15 + DATA], 0x6d6f6f62    # "boom"
        mov dword ptr [r15 + H_OUTPUT_LEN], 4
        mov edx, DOORBELL
        mov eax, EV_PANIC
        out dx, eax
        jmp spin

halt:
at_halt:
        hlt
        jmp fail

exec_stack:
        lea rax, [rsp - 64]
        mov byte ptr [rax], 0xC3              # ret
        call rax
        jmp fail

write_boot:
at_write_boot:
        mov byte ptr [0x6000], 1
        jmp fail

read_gdt:
at_read_gdt:
        mov rax, qword ptr [0x1000]
        jmp fail

undefined:
at_ud:
        ud2
        jmp fail

divide:
        xor ecx, ecx
        xor edx, edx
        mov eax, 1
at_div:
        div ecx
        jmp fail

breakpoint:
at_int3:
        int3
        jmp fail

forge_fault:
        mov al, 14                            # "a page fault", if the port were reachable
at_forge:
        out 0xf0, al                          # FN_PORT_FAULT
        jmp fail

write_msr:
        mov ecx, 0xc0000080                   # IA32_EFER
        xor eax, eax
        xor edx, edx
at_wrmsr:
        wrmsr
        jmp fail

clear_if:
at_cli:
        cli
        jmp fail

load_gdt:
at_lgdt:
        lgdt [rip + counter]
        jmp fail

past_ram:
        mov rax, qword ptr [0x6008]           # fn_boot_info.mem_size
at_past_ram:
        mov al, byte ptr [rax]
        jmp fail

past_window:
        mov rax, WINDOW + 0x800000 + 0x10000  # FN_WINDOW_ADDR + FN_WINDOW_SIZE + 64 KiB
at_past_window:
        mov al, byte ptr [rax]
        jmp fail

non_canonical:
        mov rax, 0x8000000000000000
at_non_canonical:
        mov al, byte ptr [rax]
        jmp fail

len_past_max:
        mov dword ptr [r15 + H_OUTPUT_LEN], 0x800000 - 0x1000 + 1   # FN_WINDOW_DATA_MAX + 1
        mov dword ptr [r15 + H_STATUS], 0
        mov edx, DOORBELL
        mov eax, EV_DONE
        out dx, eax
        jmp fail

# The stack guard page (fn_abi.h) is mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE. Its neighbours
# must be writable (the top of the heap below it, the bottom of the stack above it); it must fault.
write_guard:
        mov rax, qword ptr [0x6008]           # fn_boot_info.mem_size
        sub rax, 0x101000                     # - FN_STACK_SIZE - FN_STACK_GUARD_SIZE
        mov qword ptr [rax - 8], 1            # heap top
        mov qword ptr [rax + 0x1000], 1       # stack bottom
at_write_guard:
        mov qword ptr [rax], 1                # the guard page: #PF
        jmp fail

# Unbounded recursion, like QuickJS 2021's JSON.stringify on a deeply nested value: each call
# pushes 8 bytes until a push lands in the guard page.
overflow:
        call overflow
        jmp fail

count:
        inc qword ptr [rip + counter]
        inc r14
        mov rax, qword ptr [rip + counter]
        mov qword ptr [r15 + DATA], rax
        mov qword ptr [r15 + DATA + 8], r14
        mov eax, 16
        jmp reply

touch:
        call page_count
        mov rsi, qword ptr [0x6018]           # fn_boot_info.heap_end
        xor eax, eax
1:      sub rsi, 0x1000
        cmp qword ptr [rsi], 0
        je 2f
        inc rax
2:      mov rdx, 0x746f756368656421
        mov qword ptr [rsi], rdx
        dec ecx
        jnz 1b
        mov qword ptr [r15 + DATA], rax
        mov eax, 8
        jmp reply

untouch:
        call page_count
        mov rsi, qword ptr [0x6018]           # fn_boot_info.heap_end
1:      sub rsi, 0x1000
        mov qword ptr [rsi], 0
        dec ecx
        jnz 1b
        xor eax, eax
        jmp reply

# ecx = 8, or 8 x input[1] when the input has a second byte
page_count:
        mov ecx, 8
        cmp dword ptr [r15 + H_INPUT_LEN], 2
        jb 1f
        movzx ecx, byte ptr [r15 + DATA + 1]
        shl ecx, 3
1:      ret

break_fs:
        mov eax, 0x1b                         # the DPL3 data selector: base 0
        mov fs, ax
        xor eax, eax
        jmp reply

read_tls:
at_read_tls:
        mov rax, qword ptr fs:[0x10]
        mov qword ptr [r15 + DATA], rax
        mov eax, 8
        jmp reply

flip_mxcsr:
        stmxcsr dword ptr [r15 + DATA]
        mov dword ptr [r15 + DATA + 4], 0x7f80
        ldmxcsr dword ptr [r15 + DATA + 4]
        mov eax, 4
        jmp reply

scribble:
        mov rax, 0x7363726962626c65
        mov qword ptr [r15 + DATA + 0x64000], rax
        xor eax, eax
        jmp reply

peek:
        mov rax, qword ptr [r15 + DATA + 8]
        mov rdx, qword ptr [r15 + DATA + 0x64000]
        mov qword ptr [r15 + DATA], rax
        mov qword ptr [r15 + DATA + 8], rdx
        mov eax, 16
        jmp reply

unknown_event:
        mov edx, DOORBELL
        mov eax, 99
        out dx, eax
        jmp fail

fail:
        ud2

        .data
        .balign 8
counter:
        .quad 0
# Not zero, so the .data page is a data page of every snapshot: after 'i', reset must copy it back
# (copiedPages), not zero it.
data_marker:
        .quad 0x72656b72616d2e64
