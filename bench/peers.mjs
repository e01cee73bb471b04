// Bench peers, one per process: `node peers.mjs <role> [arg]`; each prints its URL on stdout.
//   ws-stream N        sends N distinct job.event frames to each client that connects
//   ws-echo            echoes every message
//   ws-relay URL       naive WebSocket relay: forward each message, nothing else (the baseline)
//   ws-relay-coalescing URL   the same, forwarding like arcp record: no UTF-8 check, a write per read
//   http-upstream      POST /v1/json → a unique ~2 KiB chat completion; POST /v1/sse → 100 unique SSE events;
//                      /json and /sse → the same body every time (the best case)
//   http-relay URL     node:http + undici Pool forwarding proxy, keep-alive, pipeline() both ways (the baseline)
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { eventFrame } from './frames.mjs';

const [role, arg] = process.argv.slice(2);
// A clean exit on SIGINT, so `node --cpu-prof peers.mjs …` writes its profile.
process.once('SIGINT', () => process.exit(0));
const ready = (url) => process.stdout.write(url + '\n');
const listenWs = (opts = {}) =>
  new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...opts });
    wss.once('listening', () => resolve(wss));
  });

if (role === 'ws-stream') {
  const n = Number(arg);
  // Every frame distinct (message id, event_seq), as a runtime's are: nothing dedupes in the tape.
  const frames = Array.from({ length: n }, (_, i) => eventFrame(i));
  const wss = await listenWs();
  wss.on('connection', async (s) => {
    for (let i = 0; i < n; i++) {
      s.send(frames[i], { binary: false });
      if (s.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    }
  });
  ready(`ws://127.0.0.1:${wss.address().port}`);
} else if (role === 'ws-echo') {
  const wss = await listenWs();
  wss.on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
  ready(`ws://127.0.0.1:${wss.address().port}`);
} else if (role === 'ws-relay' || role === 'ws-relay-coalescing') {
  // The coalescing relay forwards the way `arcp record` does (no UTF-8 check; first message of a
  // read at once, the rest of the read in one write): comparing with it isolates recording's cost.
  const same = role === 'ws-relay-coalescing' ? { skipUTF8Validation: true } : {};
  const wss = await listenWs(same);
  const forward = (to) => {
    if (role === 'ws-relay') return (d, b) => to.send(d, { binary: b });
    let inTick = false;
    let corked = false;
    return (d, b) => {
      if (!inTick) {
        inTick = true;
        process.nextTick(() => {
          inTick = false;
          if (corked) to._socket.uncork();
          corked = false;
        });
      } else if (!corked) {
        corked = true;
        to._socket.cork();
      }
      to.send(d, { binary: b });
    };
  };
  wss.on('connection', (client) => {
    const up = new WebSocket(arg, { perMessageDeflate: false, ...same });
    const early = [];
    up.on('open', () => early.splice(0).forEach(([d, b]) => up.send(d, { binary: b })));
    client.on('message', (d, b) => (up.readyState === 1 ? up.send(d, { binary: b }) : early.push([d, b])));
    up.on('message', forward(client));
    client.on('close', () => up.close());
    up.on('close', () => client.close());
  });
  ready(`ws://127.0.0.1:${wss.address().port}`);
} else if (role === 'http-upstream') {
  // What an LLM API sends: every answer unique (a counter in the id and the text), so nothing
  // dedupes in the tape and no check result is reused. `/json` and `/sse` are the best case
  // the earlier benchmark measured: the same body every time.
  let n = 0;
  const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(33);
  const completion = (i) => JSON.stringify({ id: `chatcmpl-${i}`, object: 'chat.completion', created: 1764633600 + i, model: 'bench-1', choices: [{ index: 0, message: { role: 'assistant', content: `answer ${i}: ${filler}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 250 + (i % 50), completion_tokens: 480, total_tokens: 730 + (i % 50) } });
  const same = completion(0);
  const server = createServer((req, res) => {
    req.resume();
    const i = ++n;
    if (req.url.startsWith('/v1/sse') || req.url.startsWith('/sse')) {
      const unique = req.url.startsWith('/v1/');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let k = 0; k < 100; k++) res.write(unique ? `data: {"id":"chatcmpl-${i}","index":${k},"delta":"token ${k} of ${i}"}\n\n` : `data: {"index":${k},"delta":"token ${k}"}\n\n`);
      res.end('data: [DONE]\n\n');
    } else {
      const body = req.url.startsWith('/v1/') ? completion(i) : same;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    }
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${server.address().port}`));
} else if (role === 'http-relay') {
  // A plain forwarding proxy, not handicapped: keep-alive both sides (an undici Pool to the
  // upstream), the request and the response streamed through with pipeline().
  const pool = new Pool(arg, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool
      .request({ path: req.url, method: req.method, headers, body: hasBody ? req : undefined })
      .then((up) => {
        res.writeHead(up.statusCode, up.headers);
        pipeline(up.body, res, () => undefined);
      })
      .catch((e) => res.headersSent ? res.destroy() : res.writeHead(502).end(String(e)));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${server.address().port}`));
} else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
