// CPU work: the naive recursive Fibonacci of ?n= (default 25), timed inside the guest.
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export default {
  fetch(request) {
    const n = Number(new URL(request.url).searchParams.get('n') ?? '25');
    if (!Number.isInteger(n) || n < 0 || n > 40) {
      return Response.json({ error: 'n must be an integer from 0 to 40' }, { status: 400 });
    }
    const started = performance.now();
    const result = fib(n);
    return Response.json({ n, result, ms: performance.now() - started });
  },
};
