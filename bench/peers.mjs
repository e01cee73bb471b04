// Bench peers, one per process: `node peers.mjs <role> [arg]`; each prints its URL on stdout.
//   ws-stream N        sends N distinct job.event frames to each client that connects
//   ws-echo            echoes every message
//   ws-relay URL       naive WebSocket relay: forward each message, nothing else (the baseline)
//   ws-relay-coalescing URL   the same, forwarding like arcp record: no UTF-8 check, a write per read
//   http-upstream      GET /json → 2 KiB JSON; GET /sse → 100 SSE events
//   http-relay URL     undici forwarding proxy: stream request and response through (the baseline)
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
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
  const json = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'x'.repeat(1900) } }] });
  const server = createServer((req, res) => {
    req.resume();
    if (req.url.startsWith('/sse')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 100; i++) res.write(`data: {"index":${i},"delta":"token ${i}"}\n\n`);
      res.end('data: [DONE]\n\n');
    } else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${server.address().port}`));
} else if (role === 'http-relay') {
  const agent = new Agent({ connections: 256 });
  const server = createServer(async (req, res) => {
    try {
      const up = await request(arg + req.url, { method: req.method, headers: { ...req.headers, host: undefined, connection: undefined }, body: req.method === 'GET' ? undefined : req, dispatcher: agent });
      res.writeHead(up.statusCode, up.headers);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${server.address().port}`));
} else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
