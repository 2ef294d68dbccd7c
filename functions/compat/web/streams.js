// ReadableStream in the guest: request.body read with a reader and with for await, and a stream
// the function builds from a pull source.
export default {
  async fetch(request) {
    const chunks = [];
    const hadBody = request.body !== null;
    const usedBefore = request.bodyUsed;
    const reader = request.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(new TextDecoder().decode(value));
    }
    let secondRead = '';
    try {
      await request.text();
    } catch (e) {
      secondRead = e.name;
    }

    let n = 0;
    const counted = new ReadableStream({
      pull(controller) {
        n++;
        if (n <= 3) controller.enqueue(`chunk ${n}`);
        else controller.close();
      },
    });
    const pulled = [];
    for await (const chunk of counted) pulled.push(chunk);

    let cancelledWith = null;
    const cancellable = new ReadableStream({
      start(c) {
        c.enqueue('a');
        c.enqueue('b');
      },
      cancel(reason) {
        cancelledWith = `cancelled: ${reason}`;
      },
    });
    const first = [];
    for await (const chunk of cancellable) {
      first.push(chunk);
      break; // leaving the loop cancels the stream
    }
    const failing = new ReadableStream({ start: (c) => c.error(new RangeError('broken source')) });
    let failure = '';
    try {
      await failing.getReader().read();
    } catch (e) {
      failure = `${e.name}: ${e.message}`;
    }
    const getNoBody = new Request('https://x.test/').body;
    return new Response(
      JSON.stringify({
        hadBody,
        usedBefore,
        chunks,
        usedAfter: request.bodyUsed,
        secondRead,
        pulled,
        first,
        cancelledWith,
        failure,
        getNoBody,
        locked: counted.locked,
      }),
    );
  },
};
