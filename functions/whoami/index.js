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
      typeofProcess: typeof process,
      typeofRequire: typeof require,
    });
  },
};
