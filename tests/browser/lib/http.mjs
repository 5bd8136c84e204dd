// Minimal HTTP client for test setup through the public API (docs/API.md): explicit Host header
// (tenant hosts are <slug>.localhost, which Node's resolver does not know) and a cookie jar.
import http from 'node:http';

export function request(port, host, method, path, { headers = {}, body, jar } = {}) {
  return new Promise((resolve, reject) => {
    const h = { host: `${host}:${port}`, accept: 'application/json', ...headers };
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      if (!h['content-type']) h['content-type'] = 'application/json';
      h['content-length'] = String(payload.length);
    }
    if (jar?.cookie) h.cookie = jar.cookie;
    if (jar?.csrf && method !== 'GET') h['x-csrf-token'] = jar.csrf;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const setCookie = res.headers['set-cookie'];
        if (jar && setCookie) jar.cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${host}${path}`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function ok(promise, what) {
  const r = await promise;
  if (r.status < 200 || r.status >= 300) {
    throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
  return r.json;
}
