#!/usr/bin/env node
// A test peer that behaves like the public reference SDK's client (../shared/spec/wire-notes.md),
// written apart from src/client so that replay is tested against a stranger, not against itself:
// ULID message ids, timer-driven acks, clock values it chose in what it sends, `session.bye`
// followed by a close without a status code, v1.0 resume inside `session.hello`, and (when asked)
// a close with 1001, a dropped socket, or its own death by SIGKILL mid-session.
//
//   node stranger-client.mjs URL SCENARIO [--token T] [--close none|1001|terminate] [--no-bye] [--ack-ms N]
//        broken on purpose: [--ack-ahead N] (acks N beyond what arrived) [--ack-back] (acks go back) [--no-pong]
//
// Prints one JSON line per observation on stdout ({"event":…}); exits 0 when the scenario saw
// what a client of a correct runtime must see, 3 with the reason on stderr when it did not.
import WebSocket from 'ws';

const [url, scenario, ...rest] = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : dflt;
};
const token = opt('token', 'tok');
const closeMode = opt('close', 'none');
const ackMs = Number(opt('ack-ms', '40'));
// Without bye the close is this client's alone (the runtime may close first after a bye).
const sayBye = !rest.includes('--no-bye');
const ackAhead = Number(opt('ack-ahead', '0'));
const ackBack = rest.includes('--ack-back');
const answerPings = !rest.includes('--no-pong');
const FEATURES = ['heartbeat', 'ack', 'list_jobs', 'subscribe', 'lease_expires_at', 'cost.budget', 'progress', 'result_chunk', 'agent_versions', 'model.use', 'provisioned_credentials'];

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const fail = (why) => {
  process.stderr.write(`stranger-client: ${why}\n`);
  process.exit(3);
};

// Crockford base32 ULIDs, time first, as the SDK makes them.
const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function ulid() {
  let t = Date.now();
  let s = '';
  for (let i = 0; i < 10; i++) {
    s = B32[t % 32] + s;
    t = Math.floor(t / 32);
  }
  for (let i = 0; i < 16; i++) s += B32[Math.floor(Math.random() * 32)];
  return s;
}

/** One session on its own socket, with the SDK's habits. */
class Session {
  constructor(name) {
    this.name = name;
    this.ws = new WebSocket(url);
    this.waiters = [];
    this.frames = [];
    this.lastSeq = 0;
    this.acked = 0;
    this.ws.on('message', (data) => this.onMessage(JSON.parse(String(data))));
    this.ws.on('error', (e) => fail(`${name}: socket error ${e.message}`));
    this.closed = new Promise((r) => this.ws.once('close', (code) => r(code)));
  }

  open() {
    return new Promise((resolve) => this.ws.once('open', resolve));
  }

  send(type, payload, extra = {}) {
    const m = { arcp: '1.1', id: `msg_${ulid()}`, type, ...(this.sessionId ? { session_id: this.sessionId } : {}), ...extra, payload };
    this.ws.send(JSON.stringify(m));
    return m;
  }

  onMessage(m) {
    this.frames.push(m);
    if (typeof m.event_seq === 'number') {
      if (m.event_seq !== this.lastSeq + 1) fail(`${this.name}: event_seq went from ${this.lastSeq} to ${m.event_seq}`);
      this.lastSeq = m.event_seq;
    }
    if (m.type === 'session.ping' && answerPings) this.send('session.pong', { ping_nonce: m.payload.nonce, received_at: new Date().toISOString() });
    say({ event: 'frame', session: this.name, type: m.type, kind: m.payload?.kind, seq: m.event_seq });
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** Resolves with the first frame (already received or to come) that `match` accepts. */
  wait(match, what, ms = 8000) {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => fail(`${this.name}: no ${what} within ${ms} ms`), ms);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** `resume`: the v1.0 form the SDK sends, inside the hello. */
  async hello(resume) {
    this.send('session.hello', { client: { name: `stranger-client/${scenario}`, version: '1.0.0' }, auth: { scheme: 'bearer', token }, capabilities: { encodings: ['json'], features: FEATURES }, ...(resume ? { resume } : {}) });
    const w = await this.wait((m) => m.type === 'session.welcome' || m.type === 'session.error', 'session.welcome');
    if (w.type !== 'session.welcome') fail(`${this.name}: hello refused: ${JSON.stringify(w.payload)}`);
    this.sessionId = w.session_id;
    this.resumeToken = w.payload.resume_token;
    // The SDK acks on a timer, whatever has arrived by then: the values differ run to run.
    this.ackTimer = setInterval(() => {
      if (this.lastSeq > this.acked) {
        this.acked = this.lastSeq;
        this.ack();
      }
    }, ackMs);
    return w;
  }

  ack(value = this.lastSeq + ackAhead) {
    this.lastAckSent = value;
    this.send('session.ack', { last_processed_seq: value });
  }

  async submit(payload) {
    const sent = this.send('job.submit', payload);
    const acc = await this.wait((m) => (m.type === 'job.accepted' || m.type === 'job.error' || m.type === 'session.error') && (m.payload?.details?.request_id ?? sent.id) === sent.id && !this.claimed?.has(m.id), 'job.accepted');
    (this.claimed ??= new Set()).add(acc.id);
    return { sent, accepted: acc, jobId: acc.job_id ?? acc.payload?.job_id };
  }

  terminal(jobId) {
    return this.wait((m) => (m.type === 'job.result' || m.type === 'job.error') && m.job_id === jobId, `the end of ${jobId}`, 15000);
  }

  /** How the SDK ends a session: bye, then a close without a status code (1005 on the wire). */
  async bye() {
    clearInterval(this.ackTimer);
    if (this.lastSeq > this.acked) this.ack();
    if (ackBack && this.lastAckSent > 3) this.ack(this.lastAckSent - 3);
    if (sayBye) this.send('session.bye', { reason: 'scenario done' });
    if (closeMode === '1001') this.ws.close(1001, 'client going away');
    else if (closeMode === 'terminate') this.ws.terminate();
    else this.ws.close();
    const code = await this.closed;
    say({ event: 'closed', session: this.name, code });
  }
}

const scenarios = {
  async echo() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const { jobId } = await a.submit({ agent: 'echo', input: { note: 'from a stranger', at: new Date().toISOString() } });
    const end = await a.terminal(jobId);
    if (end.type !== 'job.result') fail(`echo ended with ${end.type}`);
    await a.bye();
  },

  // A lease that expires 1.5 s after submission, chosen from this client's clock.
  async lease() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const { accepted, jobId } = await a.submit({ agent: 'lease-watch', input: { tickMs: 600, ticks: 100 }, lease_request: { 'tool.call': ['index.*'] }, lease_constraints: { expires_at: expiresAt } });
    if (accepted.type !== 'job.accepted') fail(`lease-watch refused: ${JSON.stringify(accepted.payload)}`);
    const echoed = accepted.payload?.lease_constraints?.expires_at;
    if (echoed !== expiresAt) fail(`job.accepted did not echo my expires_at: sent ${expiresAt}, got ${echoed}`);
    const t0 = performance.now();
    const end = await a.terminal(jobId);
    if (end.payload?.code !== 'LEASE_EXPIRED') fail(`expected LEASE_EXPIRED, got ${JSON.stringify(end.payload)}`);
    say({ event: 'gap', from: 'job.accepted', to: 'LEASE_EXPIRED', ms: Math.round(performance.now() - t0) });
    await a.bye();
  },

  // Many events, acked on a timer.
  async ack() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const { jobId } = await a.submit({ agent: 'flood', input: { count: 400 } });
    await a.terminal(jobId);
    await a.bye();
  },

  // Session B finds A's running job with list_jobs and subscribes to it, history included.
  async subscribe() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const { jobId } = await a.submit({ agent: 'ticker', input: { ticks: 6, tickMs: 120 } });
    await a.wait((m) => m.type === 'job.event' && m.payload?.body?.message === 'tick 1/6', 'tick 1');
    const b = new Session('B');
    await b.open();
    await b.hello();
    const listed = b.send('session.list_jobs', { filter: { status: ['running'] } });
    const jobs = await b.wait((m) => m.type === 'session.jobs' && m.payload?.request_id === listed.id, 'session.jobs');
    if (!jobs.payload.jobs.some((j) => j.job_id === jobId)) fail(`B's list_jobs does not show A's running job ${jobId}`);
    b.send('job.subscribe', { job_id: jobId, history: true });
    await b.wait((m) => m.type === 'job.subscribed', 'job.subscribed');
    const [ea, eb] = await Promise.all([a.terminal(jobId), b.terminal(jobId)]);
    if (ea.type !== 'job.result' || eb.type !== 'job.result') fail('both sessions must see the job succeed');
    await b.bye();
    await a.bye();
  },

  // Quiet for a while: only the runtime's heartbeats flow.
  async quiet() {
    const a = new Session('A');
    await a.open();
    const w = await a.hello();
    const pings = (w.payload.heartbeat_interval_sec ?? 1) * 2.6 * 1000;
    await new Promise((r) => setTimeout(r, pings));
    if (!a.frames.some((m) => m.type === 'session.ping')) fail('the runtime sent no session.ping while the session was quiet');
    await a.bye();
  },

  // Drops the socket mid-job, then resumes on a new connection with the v1.0 form (resume inside the hello).
  async resume() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const { jobId } = await a.submit({ agent: 'ticker', input: { ticks: 6, tickMs: 80 } });
    await a.wait((m) => m.type === 'job.event' && m.payload?.body?.message === 'tick 2/6', 'tick 2');
    clearInterval(a.ackTimer);
    a.ws.terminate();
    await a.closed;
    const b = new Session('B');
    b.lastSeq = a.lastSeq;
    b.acked = a.acked;
    await b.open();
    const w = await b.hello({ session_id: a.sessionId, resume_token: a.resumeToken, last_event_seq: a.lastSeq });
    if (w.session_id !== a.sessionId) fail(`resume gave a new session ${w.session_id}, not ${a.sessionId}`);
    if (w.payload.resume_token === a.resumeToken) fail('the resume token was not rotated');
    const end = await b.terminal(jobId);
    if (end.type !== 'job.result') fail(`after resume the job ended with ${end.type}`);
    await b.bye();
  },

  // Dies mid-job, as a killed process does: no bye, no close frame.
  async midjob() {
    const a = new Session('A');
    await a.open();
    await a.hello();
    const { jobId } = await a.submit({ agent: 'slow', input: { steps: 200, tickMs: 20 } });
    await a.wait((m) => m.type === 'job.event' && m.job_id === jobId && m.payload?.kind === 'metric' && m.payload.body.value === 5, 'step 5');
    say({ event: 'dying' });
    if (closeMode === 'terminate') {
      a.ws.terminate();
      await a.closed;
      return;
    }
    process.kill(process.pid, 'SIGKILL');
  },
};

if (!scenarios[scenario]) fail(`no scenario ${scenario}; one of ${Object.keys(scenarios).join(', ')}`);
await scenarios[scenario]();
process.exit(0);
