// A client written for the tests, apart from the reference client: it behaves like the public
// TypeScript reference SDK's client in wire-notes.md (resume inside session.hello, session.bye,
// acks on a timer, sockets closed without a status code) and runs the conformance scenarios
// named in ARCP_CONFORMANCE_SCENARIO. `node stranger-client.mjs <break>` runs a broken variant:
// each breaks one rule (see BREAKS below).
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const BREAK = process.argv[2] ?? 'none';
const BREAKS = new Set([
  'none',
  'wrong-auth-scheme', // auth.scheme "token" instead of "bearer"
  'no-pong', // never answers session.ping
  'silent-when-idle', // never pings an idle runtime
  'ack-beyond-delivered', // acks five events it never received
  'ack-goes-back', // an ack lower than the one before
  'ack-every-event', // an ack per event, as fast as they come
  'ack-without-feature', // acks though `ack` was not negotiated
  'unknown-fields-crash', // exits on envelope fields it does not know
  'vendor-kind-crash', // exits on an event kind it does not know
  'unknown-scheme-crash', // exits on a credential scheme it does not know
  'chunks-not-decoded', // joins result chunks' base64 text without decoding it
  'stale-resume-token', // resumes with the first token it was given, every time
  'no-reconnect', // does not come back after the runtime drops it
  'ignores-gap', // goes on past a gap in event_seq
  'cancels-subscribed', // cancels every job it knows of before closing, subscribed ones too
  'no-close-message', // ends by closing the socket, without session.bye or session.close
]);
if (!BREAKS.has(BREAK)) {
  console.error(`unknown break "${BREAK}"`);
  process.exit(2);
}

const { ARCP_URL: URL_, ARCP_TOKEN: TOKEN, ARCP_CONFORMANCE_SCENARIO: SCENARIO } = process.env;
const FEATURES = ['heartbeat', 'ack', 'list_jobs', 'subscribe', 'lease_expires_at', 'cost.budget', 'progress', 'result_chunk', 'agent_versions', 'model.use', 'provisioned_credentials'];
const KNOWN_KINDS = new Set(['log', 'thought', 'tool_call', 'tool_result', 'status', 'metric', 'artifact_ref', 'delegate', 'progress', 'result_chunk']);
const ENVELOPE = new Set(['arcp', 'id', 'type', 'session_id', 'trace_id', 'job_id', 'event_seq', 'extensions', 'payload']);
const ulid = () => `msg_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
const die = (why) => {
  console.error(`stranger client: ${why}`);
  process.exit(1);
};

/** One session across reconnects. */
class Session {
  ws;
  id;
  tokens = [];
  features = new Set();
  interval;
  last = 0; // highest contiguous event_seq received
  acked = 0;
  jobs = new Map(); // job_id -> { events: [], done: fn, result }
  waiters = [];
  lastSent = Date.now();
  closing = false;
  timers = [];

  async open(resume) {
    this.ws = new WebSocket(URL_);
    await new Promise((ok, ko) => {
      this.ws.once('open', ok);
      this.ws.once('error', ko);
    });
    this.ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    this.ws.on('close', (code) => this.onClose(code));
    const payload = { client: { name: 'stranger-client', version: '1.0.0' }, auth: { scheme: BREAK === 'wrong-auth-scheme' ? 'token' : 'bearer', token: TOKEN }, capabilities: { encodings: ['json'], features: FEATURES } };
    if (resume) payload.resume = { session_id: this.id, resume_token: BREAK === 'stale-resume-token' ? this.tokens[0] : this.tokens[this.tokens.length - 1], last_event_seq: this.last };
    const welcomed = this.wait((m) => m.type === 'session.welcome' || m.type === 'session.error');
    this.send('session.hello', payload, false);
    const w = await welcomed;
    if (w.type !== 'session.welcome') die(`refused: ${w.payload.code}`);
  }

  send(type, payload, withSession = true, extra = {}) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const env = { arcp: '1.1', id: ulid(), type, ...(withSession && this.id ? { session_id: this.id } : {}), ...extra, payload };
    this.ws.send(JSON.stringify(env));
    this.lastSent = Date.now();
  }

  wait(pred) {
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  onFrame(m) {
    if (BREAK === 'unknown-fields-crash' && Object.keys(m).some((k) => !ENVELOPE.has(k))) die(`unexpected envelope field in ${m.type}`);
    if (m.type.startsWith('x-vendor.')) {
      if (BREAK === 'vendor-kind-crash') die(`unknown message ${m.type}`);
      return;
    }
    if (typeof m.event_seq === 'number') {
      if (m.event_seq <= this.last) return;
      if (this.last > 0 && m.event_seq !== this.last + 1 && BREAK !== 'ignores-gap') {
        // The session is broken (§8.3): drop the socket and resume from the last seq in order.
        if (!this.gapping) {
          this.gapping = true;
          this.ws.terminate();
        }
        return;
      }
      this.last = m.event_seq;
      if (BREAK === 'ack-every-event' && this.features.has('ack')) this.send('session.ack', { last_processed_seq: this.last });
    }
    switch (m.type) {
      case 'session.welcome':
        this.id = m.session_id;
        this.tokens.push(m.payload.resume_token);
        this.features = new Set(m.payload.capabilities?.features ?? []);
        this.interval = m.payload.heartbeat_interval_sec;
        this.startTimers();
        break;
      case 'session.ping':
        if (BREAK !== 'no-pong') this.send('session.pong', { ping_nonce: m.payload.nonce, received_at: new Date().toISOString() });
        break;
      case 'job.accepted': {
        if (BREAK === 'unknown-scheme-crash' && (m.payload.credentials ?? []).some((c) => c.scheme !== 'bearer')) die(`unknown credential scheme`);
        this.job(m.payload.job_id).accepted = m;
        break;
      }
      case 'job.event':
        if (BREAK === 'vendor-kind-crash' && !KNOWN_KINDS.has(m.payload.kind)) die(`unknown event kind ${m.payload.kind}`);
        this.job(m.job_id).events.push(m.payload);
        break;
      case 'job.result':
      case 'job.error':
        this.job(m.job_id).end = m;
        break;
    }
    for (const w of [...this.waiters]) if (w.pred(m)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m);
    }
  }

  job(id) {
    if (!this.jobs.has(id)) this.jobs.set(id, { events: [] });
    return this.jobs.get(id);
  }

  startTimers() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if ((this.features.has('ack') || BREAK === 'ack-without-feature') && BREAK !== 'ack-every-event') {
      this.timers.push(setInterval(() => {
        if (this.last <= this.acked) return;
        if (BREAK === 'ack-goes-back' && !this.wentBack && this.acked > 1) {
          this.wentBack = true;
          return this.send('session.ack', { last_processed_seq: this.acked - 1 });
        }
        const n = BREAK === 'ack-beyond-delivered' ? this.last + 5 : this.last;
        this.acked = n;
        this.send('session.ack', { last_processed_seq: n });
      }, 200));
    }
    if (this.features.has('heartbeat') && this.interval && BREAK !== 'silent-when-idle') {
      this.timers.push(setInterval(() => {
        if (Date.now() - this.lastSent >= this.interval * 500) this.send('session.ping', { nonce: ulid(), sent_at: new Date().toISOString() });
      }, Math.max(50, this.interval * 250)));
    }
  }

  onClose(code) {
    for (const t of this.timers) clearInterval(t);
    if (this.closing) return;
    const gap = this.gapping;
    this.gapping = false;
    // The reference SDK comes back after a drop, and after its own close for a gap.
    if (gap || (code === 1006 && BREAK !== 'no-reconnect')) this.open(true).catch((e) => die(`resume failed: ${e.message}`));
    else this.onGone?.();
  }

  submit(agent, input) {
    const accepted = this.wait((m) => m.type === 'job.accepted' && !m.payload.parent_job_id);
    this.send('job.submit', { agent, input });
    return accepted.then((a) => this.result(a.payload.job_id));
  }

  result(jobId) {
    const j = this.job(jobId);
    if (j.end) return Promise.resolve(j.end);
    return this.wait((m) => (m.type === 'job.result' || m.type === 'job.error') && m.job_id === jobId);
  }

  async bye() {
    this.closing = true;
    if (BREAK === 'cancels-subscribed') for (const id of this.jobs.keys()) this.send('job.cancel', { reason: 'client shutting down' }, true, { job_id: id });
    if (BREAK !== 'no-close-message') this.send('session.bye', { reason: 'done' });
    this.ws.close();
  }
}

const s = new Session();
await s.open(false);
const run = {
  async handshake() {
    await s.submit('echo', { hello: 'conformance' });
  },
  heartbeat: () => new Promise((r) => (s.onGone = r)),
  async ack() {
    await s.submit('flood', { count: 200 });
  },
  async 'result-chunk'() {
    const end = await s.submit('report', { chunks: 5, chunkBytes: 300, encoding: 'base64' });
    const chunks = s.job(end.job_id).events.filter((e) => e.kind === 'result_chunk').map((e) => e.body).sort((a, b) => a.chunk_seq - b.chunk_seq);
    const bytes = BREAK === 'chunks-not-decoded' ? Buffer.from(chunks.map((c) => c.data).join(''), 'utf8') : Buffer.concat(chunks.map((c) => Buffer.from(c.data, c.encoding === 'base64' ? 'base64' : 'utf8')));
    await s.submit('echo', { result_id: end.payload.result_id, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  },
  async resume() {
    await s.submit('ticker', { ticks: 6, tickMs: 100 });
  },
  async subscribe() {
    const listed = s.wait((m) => m.type === 'session.jobs');
    s.send('session.list_jobs', { filter: { status: ['running'] } });
    const job = (await listed).payload.jobs.find((j) => j.agent.split('@')[0] === 'ticker');
    if (!job) die('no running ticker job listed');
    const done = s.result(job.job_id);
    s.send('job.subscribe', { job_id: job.job_id, history: true });
    await done;
  },
};
run['unknown-fields'] = run['vendor-kinds'] = run['unknown-scheme'] = run.handshake;
run['ack-not-negotiated'] = run.ack;
run.gap = run.resume;
if (!run[SCENARIO]) die(`unknown scenario ${SCENARIO}`);
await run[SCENARIO]();
if (SCENARIO !== 'heartbeat') await s.bye();
process.exit(0);
