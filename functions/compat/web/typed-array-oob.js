// QuickJS 2021 and a TypedArray write outside its range in strict (module) code: the engine
// behaviour that stops fast-xml-parser 5 (its anynum dependency) at load. What Node does instead:
// the write is ignored (ECMAScript: TypedArray [[Set]] with an invalid index returns true).
export default {
  fetch() {
    const attempt = (index) => {
      const a = new Uint8Array(4);
      try {
        a[index] = 1;
        return `ignored, length ${a.length}`;
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    };
    return Response.json({ negative: attempt(-1584), pastTheEnd: attempt(4), reflect: Reflect.set(new Uint8Array(4), 9, 1) });
  },
};
