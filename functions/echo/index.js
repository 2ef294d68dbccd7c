// Reflects the request: method, path, query, headers and the JSON body (or the text if not JSON).
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const text = await request.text();
    let body = null;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return Response.json({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      body,
    });
  },
};
