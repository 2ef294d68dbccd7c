// @fn/guest — where the built guest programs are (run `npm run build -w @fn/guest` first).
import { fileURLToPath } from 'node:url';

const build = (name) => fileURLToPath(new URL(`./build/${name}`, import.meta.url));

/** The KVM guest: static x86-64 ELF linked at 0x400000, entry _start. */
export const guestElfPath = build('fn-guest.elf');
/** The same runtime as a Linux program for the process sandbox transport (`--memory-mib N`). */
export const guestProcessPath = build('fn-guest-process');
/** The same QuickJS build as a plain CLI (`qjs-native file.js`, globals print() and now()). */
export const qjsNativePath = build('qjs-native');
/** FN_ABI_VERSION of guest/include/fn_abi.h that these programs speak. */
export const guestAbiVersion = 1;
