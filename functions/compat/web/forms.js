// Blob, File, FormData and request.formData() in the guest: the function reads the posted form
// (urlencoded or multipart) and answers with what it found, then builds a multipart body itself.
export default {
  async fetch(request) {
    const form = await request.formData();
    const fields = [];
    for (const [name, value] of form) {
      fields.push(typeof value === 'string' ? [name, value] : [name, { file: value.name, type: value.type, size: value.size, text: await value.text() }]);
    }
    const built = new FormData();
    built.append('greeting', 'hi\nthere');
    built.append('upload', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
    built.set('greeting', 'hello');
    const roundTrip = await new Response(built).formData();
    const blob = new Blob(['héllo', new Uint8Array([33])], { type: 'Text/Plain' });
    return new Response(
      JSON.stringify({
        fields,
        roundTrip: [roundTrip.get('greeting'), roundTrip.get('upload').name, await roundTrip.get('upload').text(), roundTrip.getAll('greeting').length],
        blob: [
          blob.size,
          blob.type,
          await blob.text(),
          await blob.slice(-2).text(),
          await blob
            .slice(1, 3, 'x/y')
            .bytes()
            .then((b) => Array.from(b)),
        ],
        file: (() => {
          const f = new File(['x'], 'n.txt', { lastModified: 42 });
          return [f.name, f.lastModified, f instanceof Blob, String(f)];
        })(),
      }),
    );
  },
};
