import { fileURLToPath } from 'node:url';

/**
 * The ptrace stand-in VMM (vmm/native/ptrace/, built by `npm run build -w @fn/vmm`): runs the KVM
 * guest ELF without KVM, with SNAPSHOT / RESET / restore (guest/include/fn_vmm_control.h).
 * `ptrace-vmm <elf> --memory-mib N [--restore DIR [--base FILE]]`.
 */
export const ptraceVmmPath = fileURLToPath(new URL('../build/ptrace-vmm', import.meta.url));

/** The launcher of KVM VMM host processes under Landlock (vmm/native/ptrace/landlock_exec.c). */
export const landlockExecPath = fileURLToPath(new URL('../build/fn-landlock-exec', import.meta.url));
