// A function whose init throws: used by the `fn run` error test.
notDefinedAnywhere();
export default { fetch: () => new Response('never') };
