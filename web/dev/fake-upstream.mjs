// A tiny OpenAI-style provider for developing and testing the portal without the C++ fake
// upstream (tests/tools/livery-fake-upstream). Same control surface: it prints its port as a
// JSON line, and has POST /__fake/behaviour, GET /__fake/requests, POST /__fake/reset.
// Dev/test only: never shipped in the bundle.
//
// Behaviour (JSON, all optional): {"reply": "text", "chunks": 8, "chunk_delay_ms": 30,
//   "accepted_keys": ["sk-..."], "status": 500}
import http from 'node:http';

export function startFakeUpstream({ port = 0, host = '127.0.0.1' } = {}) {
  const defaults = () => ({ reply: 'Hello from the fake upstream.', chunks: 6, chunk_delay_ms: 20, accepted_keys: null, status: 0 });
  let behaviour = defaults();
  let requests = [];

  const authorised = (req) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || req.headers['x-api-key'] || req.headers['api-key'] || '';
    return !behaviour.accepted_keys || behaviour.accepted_keys.includes(key);
  };
  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const unauthorised = (res) => json(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const bodyText = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/__fake/behaviour' && req.method === 'POST') {
        behaviour = { ...defaults(), ...JSON.parse(bodyText || '{}') };
        return json(res, 200, behaviour);
      }
      if (url.pathname === '/__fake/requests') return json(res, 200, { requests });
      if (url.pathname === '/__fake/reset') { requests = []; behaviour = defaults(); return json(res, 200, {}); }

      const entry = { method: req.method, target: req.url, headers: req.headers, body: bodyText, ts: Date.now(),
                      completed: false, cancelled: false };
      requests.push(entry);
      if (!authorised(req)) { entry.completed = true; return unauthorised(res); }
      if (behaviour.status) { entry.completed = true; return json(res, behaviour.status, { error: { message: 'fake failure', type: 'server_error' } }); }
      if (url.pathname === '/v1/models' && req.method === 'GET') {
        entry.completed = true;
        return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }, { id: 'gpt-4o', object: 'model' }] });
      }
      if (url.pathname === '/v1/chat/completions' && req.method === 'POST') {
        let body = {};
        try { body = JSON.parse(bodyText); } catch { return json(res, 400, { error: { message: 'bad json', type: 'invalid_request_error' } }); }
        const reply = behaviour.reply;
        const n = Math.max(1, behaviour.chunks);
        const size = Math.ceil(reply.length / n);
        const pieces = [];
        for (let i = 0; i < reply.length; i += size) pieces.push(reply.slice(i, i + size));
        const id = `chatcmpl-${Date.now()}`;
        const usage = { prompt_tokens: Math.ceil(bodyText.length / 4), completion_tokens: pieces.length, total_tokens: 0 };
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
        if (!body.stream) {
          entry.completed = true;
          return json(res, 200, { id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }], usage });
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let i = 0;
        let timer = null;
        res.on('close', () => {
          if (!entry.completed) entry.cancelled = true;
          clearTimeout(timer);
        });
        const send = () => {
          if (i < pieces.length) {
            const delta = i === 0 ? { role: 'assistant', content: pieces[i] } : { content: pieces[i] };
            res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`);
            i++;
            timer = setTimeout(send, behaviour.chunk_delay_ms);
            return;
          }
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
          if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
          res.write('data: [DONE]\n\n');
          entry.completed = true;
          res.end();
        };
        send();
        return;
      }
      json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => resolve({ server, port: server.address().port, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const portArg = process.argv.indexOf('--port');
  const f = await startFakeUpstream({ port: portArg > 0 ? Number(process.argv[portArg + 1]) : 0 });
  console.log(JSON.stringify({ port: f.port }));
}
