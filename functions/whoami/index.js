// Proves where it runs: the guest runtime's name and version, its memory, and the absence of Node.
export default {
  fetch() {
    const info = globalThis.fn ?? {};
    return Response.json({
      runtime: info.runtime,
      version: info.version,
      engine: info.engine,
      platform: info.platform,
      memoryBytes: info.memoryBytes,
      // Through globalThis: a bare `typeof require` would see the bundler's own shim.
      typeofProcess: typeof globalThis.process,
      typeofRequire: typeof globalThis.require,
    });
  },
};
