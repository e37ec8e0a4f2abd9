// The room-page floor: the cheapest Worker that serves the same object from the same
// local R2 as rooom's room page (key given in env.KEY), with the same ETag.
export default {
  async fetch(request, env) {
    const object = await env.FILES.get(env.KEY);
    if (!object) return new Response('missing', { status: 404 });
    return new Response(object.body, {
      headers: { 'content-type': 'text/html; charset=utf-8', etag: object.httpEtag },
    });
  },
};
