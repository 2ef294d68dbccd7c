# probe_guest.S — a tiny kernel-less guest for checking the VMM on a host with /dev/kvm.
#
# It checks what the VMM promised at boot (RDI = boot info, boot magic, a usable stack, a writable TLS
# page at the FS base), rings READY, then serves commands. The first input byte picks a scenario, so
# one ELF exercises every exit path; see test/kvm_scenarios.cjs for the expected outcome of each.
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
                                              # anything else: echo the input back
echo:
        mov eax, dword ptr [r15 + H_INPUT_LEN]
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
        jmp fail

null_read:
        xor eax, eax
        mov rax, qword ptr [rax]
        jmp fail

bad_port:
        mov edx, 0x3f8
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
        hlt
        jmp fail

exec_stack:
        lea rax, [rsp - 64]
        mov byte ptr [rax], 0xC3              # ret
        call rax
        jmp fail

write_boot:
        mov byte ptr [0x6000], 1
        jmp fail

read_gdt:
        mov rax, qword ptr [0x1000]
        jmp fail

# The stack guard page (fn_abi.h) is mem_size - FN_STACK_SIZE - FN_STACK_GUARD_SIZE. Its neighbours
# must be writable (the top of the heap below it, the bottom of the stack above it); it must fault.
write_guard:
        mov rax, qword ptr [0x6008]           # fn_boot_info.mem_size
        sub rax, 0x101000                     # - FN_STACK_SIZE - FN_STACK_GUARD_SIZE
        mov qword ptr [rax - 8], 1            # heap top
        mov qword ptr [rax + 0x1000], 1       # stack bottom
        mov qword ptr [rax], 1                # the guard page: #PF, no IDT -> triple fault
        jmp fail

# Unbounded recursion, like QuickJS 2021's JSON.stringify on a deeply nested value: each call
# pushes 8 bytes until a push lands in the guard page.
overflow:
        call overflow
        jmp fail

unknown_event:
        mov edx, DOORBELL
        mov eax, 99
        out dx, eax
        jmp fail

fail:
        ud2
