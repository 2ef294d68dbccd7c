// @fn/guest — where the built guest programs are (run `npm run build -w @fn/guest` first).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const build = (name) => fileURLToPath(new URL(`./build/${name}`, import.meta.url));

/** The KVM guest: static x86-64 ELF linked at 0x400000, entry _start. */
export const guestElfPath = build('fn-guest.elf');
/** The same runtime as a Linux program for the process sandbox transport (`--memory-mib N`). */
export const guestProcessPath = build('fn-guest-process');
/** The same QuickJS build as a plain CLI (`qjs-native file.js`, globals print() and now()). */
export const qjsNativePath = build('qjs-native');
/**
 * FN_ABI_VERSION that these programs speak, read from guest/include/fn_abi.h: the header is the one
 * place the number is written (vmm/src/abi.ts takes it from here; vmm/src/abi.test.ts checks it
 * against the header compiled with a C compiler).
 */
export const guestAbiVersion = abiVersionOf(fileURLToPath(new URL('./include/fn_abi.h', import.meta.url)));

function abiVersionOf(header) {
  const match = /^#define FN_ABI_VERSION (\d+)u?$/m.exec(readFileSync(header, 'utf8'));
  if (!match) throw new Error(`${header} has no line "#define FN_ABI_VERSION <n>u": restore it from git`);
  return Number(match[1]);
}
