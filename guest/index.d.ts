/** Absolute path of the KVM guest ELF (static x86-64, linked at 0x400000, entry _start). */
export declare const guestElfPath: string;
/** Absolute path of the process-sandbox build of the same runtime (`--memory-mib N`). */
export declare const guestProcessPath: string;
/** Absolute path of the plain Linux QuickJS CLI used as the benchmark baseline. */
export declare const qjsNativePath: string;
/** FN_ABI_VERSION (read from guest/include/fn_abi.h) these programs speak. */
export declare const guestAbiVersion: number;
