/*
 * test_attacks.h — the test-only __fnTestAttack global (test_attacks.c), installed at LOAD when
 * the host's meta asks for it ("testHooks": true).
 */
#ifndef FN_TEST_ATTACKS_H
#define FN_TEST_ATTACKS_H

#include "quickjs.h"

/* Defines globalThis.__fnTestAttack. 0, or -1 with an exception pending. */
int fn_test_attacks_install(JSContext *ctx);

#endif /* FN_TEST_ATTACKS_H */
