/*
 * module_loader.c — QuickJS calls the loader only for modules it has not seen. "fn:function" is
 * compiled (and so registered) by the LOAD command before anything imports it, so every call
 * that reaches this loader is an import the bundle did not resolve: there is no file system to
 * load it from. Say so clearly instead of QuickJS's generic "could not load module".
 */
#include "module_loader.h"

static JSModuleDef *load_module(JSContext *ctx, const char *name, void *opaque)
{
  (void)opaque;
  JS_ThrowReferenceError(ctx,
                         "cannot import '%s': a function is a single bundled ES module "
                         "(bundle its dependencies with esbuild)",
                         name);
  return NULL;
}

void fn_module_loader_install(JSRuntime *rt)
{
  JS_SetModuleLoaderFunc(rt, NULL, load_module, NULL);
}
