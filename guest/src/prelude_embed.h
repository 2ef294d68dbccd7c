/*
 * prelude_embed.h — the JavaScript prelude as QuickJS bytecode, embedded at build time
 * (build/gen/prelude_bc.c, written by the prelude-compiler tool from build/prelude.js with the
 * same engine objects as this guest).
 */
#ifndef FN_PRELUDE_EMBED_H
#define FN_PRELUDE_EMBED_H

extern const unsigned char fn_prelude_bc[];
extern const unsigned int fn_prelude_bc_len;

#endif /* FN_PRELUDE_EMBED_H */
