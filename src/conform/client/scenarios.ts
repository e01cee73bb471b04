import { createHash } from 'node:crypto';
import { newId } from '../../engine/ids.js';
import type { Received } from '../peer.js';
import { pause } from '../runner.js';
import { STAGE_FEATURES, type Stage, type StageOptions } from './stage.js';

/**
 * A client scenario: what the driver is told to do (docs/conformance.md repeats it word for word)
 * and how the suite's runtime plays its side.
 */
export interface Scenario {
  name: string;
  /** The driver's instructions, one step a line. */
  driver: string[];
  /** How the suite's runtime behaves, for the docs. */
  runtime: string;
  stage?: Partial<StageOptions>;
  play(x: Stage, ms: number): Promise<void>;
}

/** Runs one `echo` job for the client's next submit; returns its job id and the submit. */
async function echo(x: Stage, ms: number, extra: (sub: Received) => Record<string, unknown> = () => ({}), between: (job: string) => void = () => undefined): Promise<{ job: string; sub: Received }> {
  const sub = await x.next('job.submit', ms);
  const job = x.accept(sub, extra(sub));
  x.event(job, 'log', { level: 'info', message: 'echo' });
  between(job);
  x.sendSeq('job.result', job, { final_status: 'success', result: { echoed: sub.msg.payload?.input ?? null } });
  return { job, sub };
}

const ECHO_STEPS = [
  'Connect to ARCP_URL and send session.hello with auth {scheme: "bearer", token: ARCP_TOKEN} and the features your client supports.',
  'Submit agent `echo` with input {"hello": "conformance"}.',
  'Wait for its job.result.',
  'Close the session (session.close) and exit 0.',
];

/** Waits until the client ends the session or leaves. */
const untilClosed = (x: Stage, ms: number) => x.current?.waitClosed(ms);

export const SCENARIOS: Scenario[] = [
  {
    name: 'handshake',
    driver: ECHO_STEPS,
    runtime: 'Welcomes with the offered features it knows, runs `echo` (one log event, then job.result {echoed: input}), answers session.close with session.closed.',
    async play(x, ms) {
      await x.hello();
      await echo(x, ms);
      await untilClosed(x, ms);
    },
  },
  {
    name: 'heartbeat',
    driver: ['Connect and send session.hello offering `heartbeat`.', 'Then do nothing: keep the connection open, answer pings as your client does, until the runtime closes it.', 'Exit 0.'],
    runtime: 'Welcomes with heartbeat_interval_sec 1, stays silent for 2.6 s (your client should send something each second, a session.ping if idle), then sends three pings 350 ms apart (each needs a session.pong with its nonce within the second), then closes the connection.',
    stage: { heartbeatSec: 1 },
    async play(x, ms) {
      await x.hello();
      const p = x.current!;
      x.facts.silentFrom = x.recorder.now();
      await pause(2600, x.signal);
      x.facts.silentTo = x.recorder.now();
      for (let i = 0; i < 3; i++) {
        x.send(p, 'session.ping', { nonce: newId('ping'), sent_at: new Date().toISOString() });
        await pause(350, x.signal);
      }
      await p.maybe((m) => m.type === 'session.pong' && p.all((n) => n.type === 'session.pong').length >= 3, 1500);
      p.close(1000, 'scenario over');
      void ms;
    },
  },
  {
    name: 'ack',
    driver: ['Connect and send session.hello offering `ack` if your client acknowledges events.', 'Submit agent `flood` with input {"count": 200}.', 'Process its events as your client does (acknowledging them if it does).', 'After its job.result, close the session and exit 0.'],
    runtime: 'Runs `flood`: 200 metric events over about half a second, then job.result {emitted: 200}. Judges every session.ack: never beyond what was delivered, never going back, no more acks than events and, on average, at least 100 ms apart.',
    async play(x, ms) {
      await x.hello();
      const sub = await x.next('job.submit', ms);
      const job = x.accept(sub);
      for (let i = 1; i <= 200; i++) {
        x.event(job, 'metric', { name: 'tick', value: i, unit: 'count' });
        if (i % 10 === 0) await pause(25, x.signal);
      }
      x.sendSeq('job.result', job, { final_status: 'success', result: { emitted: 200 } });
      await untilClosed(x, ms);
    },
  },
  {
    name: 'ack-not-negotiated',
    driver: ['Exactly as `ack`.'],
    runtime: 'As `ack`, but the welcome acknowledges neither `ack`, `list_jobs` nor `subscribe`: your client must then send no session.ack (nor list_jobs, subscribe).',
    stage: { features: STAGE_FEATURES.filter((f) => !['ack', 'list_jobs', 'subscribe'].includes(f)) },
    async play(x, ms) {
      await SCENARIOS.find((s) => s.name === 'ack')!.play(x, ms);
    },
  },
  {
    name: 'unknown-fields',
    driver: ['Exactly as `handshake`.'],
    runtime: 'As `handshake`, but every frame it sends carries top-level envelope fields no ARCP version defines (`x_conformance_future`, `x_conformance_flag`): your client must ignore them and finish as in `handshake`.',
    stage: { envelopeExtra: { x_conformance_future: { nested: [1, 2, 3] }, x_conformance_flag: true } },
    async play(x, ms) {
      await SCENARIOS[0].play(x, ms);
    },
  },
  {
    name: 'vendor-kinds',
    driver: ['Exactly as `handshake`.'],
    runtime: 'As `handshake`, but before the job.result it sends an `x-vendor.acme.note` event, an event of a kind no version defines (`conform.future-kind`) and an optional vendor message `x-vendor.acme.hint`: your client must skip them and finish as in `handshake`.',
    async play(x, ms) {
      await x.hello();
      await echo(x, ms, undefined, (job) => {
        x.event(job, 'x-vendor.acme.note', { note: 'vendor-specific event kind' });
        x.event(job, 'conform.future-kind', { anything: true });
        x.send(x.current!, 'x-vendor.acme.hint', { x: 1 }, { extensions: { optional: true } });
      });
      await untilClosed(x, ms);
    },
  },
  {
    name: 'unknown-scheme',
    driver: ['Exactly as `handshake`, offering `provisioned_credentials` if your client supports it.'],
    runtime: 'As `handshake`; when `provisioned_credentials` is negotiated, job.accepted carries two credentials, one of scheme `bearer` and one of scheme `x-conform-signed-url`: your client must ignore the scheme it does not know and finish.',
    async play(x, ms) {
      await x.hello();
      const creds = x.session!.features.includes('provisioned_credentials');
      x.facts.credentials = creds;
      await echo(x, ms, () =>
        creds
          ? {
              credentials: [
                { id: newId('cred'), scheme: 'x-conform-signed-url', value: 'https://upstream.example/signed?sig=conform', endpoint: 'https://upstream.example/v1' },
                { id: newId('cred'), scheme: 'bearer', value: 'sk-conform-not-a-secret', endpoint: 'https://upstream.example/v1', profile: 'generic' },
              ],
            }
          : {},
      );
      await untilClosed(x, ms);
    },
  },
  {
    name: 'result-chunk',
    driver: [
      'Connect and send session.hello offering `result_chunk`.',
      'Submit agent `report` with input {"chunks": 5, "chunkBytes": 300, "encoding": "base64"}.',
      'Assemble the result: decode each result_chunk event\'s `data` (base64 here) and concatenate in chunk_seq order.',
      'When its job.result arrives, submit agent `echo` with input {"result_id": <job.result result_id>, "size": <assembled byte count>, "sha256": <lowercase hex sha256 of the assembled bytes>}.',
      'After that job.result, close the session and exit 0.',
    ],
    runtime: 'Streams five base64 chunks of 300 bytes (with a log event between the second and third), then job.result {result_id, result_size, summary}; compares the echo input with what it streamed.',
    async play(x, ms) {
      await x.hello();
      const sub = await x.next('job.submit', ms);
      const job = x.accept(sub);
      const resultId = newId('res');
      const parts = Array.from({ length: 5 }, (_, i) => Buffer.from(Array.from({ length: 300 }, (_, k) => (i * 37 + k * 11) & 0xff)));
      const whole = Buffer.concat(parts);
      Object.assign(x.facts, { resultId, size: whole.length, sha256: createHash('sha256').update(whole).digest('hex'), chunked: x.session!.features.includes('result_chunk') });
      if (x.facts.chunked) {
        parts.forEach((p, i) => {
          x.event(job, 'result_chunk', { result_id: resultId, chunk_seq: i, data: p.toString('base64'), encoding: 'base64', more: i < parts.length - 1 });
          if (i === 1) x.event(job, 'log', { level: 'info', message: 'between chunks' });
        });
        x.sendSeq('job.result', job, { final_status: 'success', result_id: resultId, result_size: whole.length, summary: 'five chunks' });
      } else x.sendSeq('job.result', job, { final_status: 'success', result: { base64: whole.toString('base64') } });
      await echo(x, ms);
      await untilClosed(x, ms);
    },
  },
  {
    name: 'resume',
    driver: [
      'Connect and send session.hello.',
      'Submit agent `ticker` with input {"ticks": 6, "tickMs": 100}.',
      'Whenever the transport drops, reconnect to ARCP_URL and resume the session: session.resume with session_id, the latest resume_token you were given and last_event_seq = the highest event_seq you received.',
      'After the job.result, close the session and exit 0.',
    ],
    runtime: 'Runs `ticker` (six log events 100 ms apart, then job.result); drops the connection without a close after the second event and again after the fourth, each time waiting up to 10 s for the resume; answers a resume with a welcome (same session, a new token) and the events after last_event_seq.',
    async play(x, ms) {
      await x.hello();
      const sub = await x.next('job.submit', ms);
      const job = x.accept(sub);
      for (let i = 1; i <= 6; i++) {
        await pause(100, x.signal);
        x.event(job, 'log', { level: 'info', message: `tick ${i}/6` });
        if (i === 2 || i === 4) {
          x.drop();
          const r = await x.resumed(10_000);
          if (!r || r.form === 'fresh-hello') return;
        }
      }
      x.sendSeq('job.result', job, { final_status: 'success', result: { ticks: 6 } });
      await untilClosed(x, ms);
    },
  },
  {
    name: 'gap',
    driver: [
      'Connect and send session.hello.',
      'Submit agent `ticker` with input {"ticks": 6, "tickMs": 100}.',
      'If event_seq jumps (a seq is missing), treat the session as broken: close the transport, reconnect and resume with last_event_seq = the last seq before the gap.',
      'After the job.result, close the session and exit 0.',
    ],
    runtime: 'Runs `ticker` but never sends seq 3 (seq 2 is followed by seq 4); waits 1.5 s for a resume, which it answers with the missing seq 3 onwards; without a resume it goes on to the end.',
    async play(x, ms) {
      await x.hello();
      const sub = await x.next('job.submit', ms);
      const job = x.accept(sub);
      x.facts.gapJob = job;
      const before = x.lastSeq;
      x.skipSeqs.add(before + 3);
      x.facts.gapAfter = before + 2;
      for (let i = 1; i <= 6; i++) {
        await pause(100, x.signal);
        x.event(job, 'log', { level: 'info', message: `tick ${i}/6` });
        if (x.lastSeq === before + 4) {
          x.fill();
          await x.resumed(1500);
        }
      }
      x.sendSeq('job.result', job, { final_status: 'success', result: { ticks: 6 } });
      await untilClosed(x, ms);
    },
  },
  {
    name: 'subscribe',
    driver: [
      'Connect and send session.hello offering `list_jobs` and `subscribe`.',
      'List jobs (session.list_jobs); subscribe (history true) to the running `ticker` job the list shows — it was submitted by another session.',
      'Take its events until its job.result, then close the session (as a dashboard does when its user quits) and exit 0.',
    ],
    runtime: 'Lists one running `ticker` job of another session; answers the subscription with job.subscribed, two history events, four live ones and the job.result. Your client must not cancel a job it only subscribed to.',
    async play(x, ms) {
      await x.hello();
      const s = x.session!;
      if (!s.features.includes('list_jobs') || !s.features.includes('subscribe')) {
        x.facts.notOffered = true;
        await untilClosed(x, ms);
        return;
      }
      const jobId = newId('job');
      x.facts.watched = jobId;
      const created = new Date(Date.now() - 5000).toISOString();
      const list = await x.next('session.list_jobs', ms);
      x.send(x.current!, 'session.jobs', { request_id: list.msg.id, jobs: [{ job_id: jobId, agent: 'ticker', status: 'running', lease: {}, parent_job_id: null, created_at: created, last_event_seq: 2 }], next_cursor: null });
      const sub = await x.next('job.subscribe', ms, (m) => m.payload?.job_id === jobId);
      x.send(x.current!, 'job.subscribed', { job_id: jobId, current_status: 'running', agent: 'ticker', lease: {}, parent_job_id: null, subscribed_from: 2, replayed: sub.msg.payload?.history === true }, { job_id: jobId });
      if (sub.msg.payload?.history === true) for (let i = 1; i <= 2; i++) x.event(jobId, 'log', { level: 'info', message: `tick ${i}/6` });
      for (let i = 3; i <= 6; i++) {
        await pause(100, x.signal);
        x.event(jobId, 'log', { level: 'info', message: `tick ${i}/6` });
      }
      x.sendSeq('job.result', jobId, { final_status: 'success', result: { ticks: 6 } });
      await untilClosed(x, ms);
    },
  },
];

export const scenario = (name: string): Scenario | undefined => SCENARIOS.find((s) => s.name === name);
