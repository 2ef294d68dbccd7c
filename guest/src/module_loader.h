/*
 * module_loader.h — module resolution for the guest: the function is one bundled module named
 * "fn:function"; nothing else can be imported.
 */
#ifndef FN_MODULE_LOADER_H
#define FN_MODULE_LOADER_H

#include "quickjs.h"

#define FN_FUNCTION_MODULE_NAME "fn:function"

void fn_module_loader_install(JSRuntime *rt);

#endif /* FN_MODULE_LOADER_H */
