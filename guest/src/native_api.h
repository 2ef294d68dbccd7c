/*
 * native_api.h — what C gives JavaScript: globalThis.__fn_native (captured and deleted by the
 * prelude) and Math.random over the guest's CSPRNG.
 *
 *   __fn_native = {
 *     randomFill(u8: Uint8Array): void         fills any typed array's bytes from the CSPRNG
 *     now(): number                            unix ms, float, sub-ms precision
 *     encodeUtf8(s: string): Uint8Array        lone surrogates become U+FFFD (TextEncoder)
 *     decodeUtf8(bytes: Uint8Array | ArrayBuffer, fatal: boolean): string
 *                                              TypeError if fatal and invalid, else U+FFFD (TextDecoder;
 *                                              a BOM is kept: stripping it is the caller's choice)
 *     info: { runtime: "fn-guest", version: "0.1.0", engine: "quickjs 2021-03-27",
 *             memoryBytes: number, platform: "kvm" | "process" }
 *   }
 */
#ifndef FN_NATIVE_API_H
#define FN_NATIVE_API_H

#include "quickjs.h"

void fn_native_api_install(JSContext *ctx);

#endif /* FN_NATIVE_API_H */
