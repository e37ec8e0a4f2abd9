// The throughput floor: the cheapest possible JSON response, for comparison with
// rooom's /api/v1/health under the same Miniflare settings.
export default {
  fetch() {
    return new Response(JSON.stringify({ status: 'ok' }), { headers: { 'content-type': 'application/json' } });
  },
};
