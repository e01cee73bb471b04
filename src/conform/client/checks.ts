import type { ClientCheck } from '../check.js';
import type { Exchange, LoggedFrame, Msg } from '../exchange.js';
import type { Judge } from '../verdict.js';
import type { SessionFacts } from './stage.js';

/** One scenario as it ran: what crossed the wire, what the suite's runtime noted, how the client ended. */
export interface ScenarioRun {
  scenario: string;
  exchange: Exchange;
  session?: SessionFacts;
  facts: Record<string, unknown>;
  exit?: { code: number | null; signal: string | null };
  timedOut: boolean;
  /** The scenario script stopped early: why. */
  error?: string;
  stderr: string;
  tape?: string;
}

export type Check = ClientCheck<ScenarioRun>;

const frames = (r: ScenarioRun, dir?: 'c2s' | 's2c'): (LoggedFrame & { msg: Msg })[] => r.exchange.conns.flatMap((c) => c.frames).filter((f): f is LoggedFrame & { msg: Msg } => Boolean(f.msg) && (!dir || f.dir === dir));
const first = (r: ScenarioRun, type: string) => frames(r, 'c2s').find((f) => f.msg.type === type);
const run = (rs: ScenarioRun[], name: string) => rs.find((r) => r.scenario === name);

/** How the client ended: a one-line description for messages. */
function ending(r: ScenarioRun): string {
  if (r.timedOut) return 'the client did not finish within --timeout';
  if (r.exit && r.exit.code !== 0) return `the client exited with ${r.exit.code ?? r.exit.signal}${r.stderr ? ` (stderr: ${r.stderr})` : ''}`;
  return r.error ?? 'the client finished';
}

/** The scenario ran the way a handshake does: hello, the job, its result delivered, the client ended cleanly. */
function completed(r: ScenarioRun): boolean {
  const sent = frames(r, 's2c').some((f) => f.msg.type === 'job.result');
  return Boolean(r.session) && sent && !r.timedOut && (r.exit === undefined || r.exit.code === 0) && !r.error;
}

/** A precondition for judging a scenario: the client got as far as a welcome. */
function welcomed(r: ScenarioRun | undefined, j: Judge, req: string): r is ScenarioRun & { session: SessionFacts } {
  if (!r) return false;
  if (!r.session) {
    j.notExercised(req, `scenario ${r.scenario}: the client never got a welcome (${r.facts.badToken ? `its hello had a ${r.facts.badToken} token, not ARCP_TOKEN` : ending(r)})`);
    return false;
  }
  return true;
}

export const helloShape: Check = {
  kind: 'client',
  id: 'client/hello/shape',
  title: 'The hello carries the bearer token and a features list',
  requirements: ['6.1/bearer-token', '6.2/hello-features'],
  scenarios: ['handshake'],
  description: 'In `handshake`: the first message is session.hello with auth {scheme: "bearer", token: ARCP_TOKEN} and capabilities.features, a list of feature names.',
  judge(rs, j) {
    const r = run(rs, 'handshake')!;
    const h = first(r, 'session.hello');
    if (!h) return j.violation('6.1/bearer-token', `no session.hello (${ending(r)})`);
    const auth = h.msg.payload.auth;
    j.expect(auth?.scheme === 'bearer' && typeof auth.token === 'string' && !r.facts.badToken, '6.1/bearer-token', 'auth {scheme: "bearer", token: ARCP_TOKEN}', `auth is ${auth ? JSON.stringify({ ...auth, token: auth.token === undefined ? undefined : '…' }) : 'missing'}${r.facts.badToken ? `: the token is ${r.facts.badToken}` : ''}`, [h]);
    const f = h.msg.payload.capabilities?.features;
    j.expect(Array.isArray(f) && f.every((x: unknown) => typeof x === 'string'), '6.2/hello-features', `features [${Array.isArray(f) ? f.join(', ') : ''}]`, `capabilities.features is ${JSON.stringify(f)}`, [h]);
  },
};

export const closeSession: Check = {
  kind: 'client',
  id: 'client/session/close',
  title: 'The client ends a session with session.close',
  requirements: ['6.7/client-close'],
  scenarios: ['handshake'],
  description: 'In `handshake`, after the job.result: session.close (the draft), or session.bye (the v1.0 form, named), rather than just closing the transport.',
  judge(rs, j) {
    const r = run(rs, 'handshake')!;
    if (!welcomed(r, j, '6.7/client-close')) return;
    const how = r.session.closedWith;
    if (how === 'session.close') j.pass('6.7/client-close', 'session.close', first(r, 'session.close'));
    else if (how === 'session.bye') j.deviation('6.7/client-close', 'v1.0 form', 'the client ends the session with session.bye', first(r, 'session.bye'));
    else j.violation('6.7/client-close', `the client ended without session.close (${ending(r)})`);
  },
};

export const pong: Check = {
  kind: 'client',
  id: 'client/heartbeat/pong',
  title: 'The client answers each ping with a pong carrying its nonce within the interval',
  requirements: ['6.4/pong-promptly'],
  scenarios: ['heartbeat'],
  description: 'In `heartbeat`, the runtime pings three times (interval 1 s): each ping needs a session.pong with its ping_nonce within the second (plus a quarter for scheduling).',
  judge(rs, j) {
    const r = run(rs, 'heartbeat')!;
    if (!welcomed(r, j, '6.4/pong-promptly')) return;
    if (!r.session.features.includes('heartbeat')) return j.notExercised('6.4/pong-promptly', 'the client did not offer `heartbeat`');
    const pings = frames(r, 's2c').filter((f) => f.msg.type === 'session.ping');
    if (!pings.length) return j.notExercised('6.4/pong-promptly', `no ping was sent (${ending(r)})`);
    for (const p of pings) {
      const answer = frames(r, 'c2s').find((f) => f.msg.type === 'session.pong' && f.msg.payload.ping_nonce === p.msg.payload.nonce);
      const ms = answer ? Math.round(answer.at - p.at) : undefined;
      j.expect(ms !== undefined && ms <= 1750, '6.4/pong-promptly', `pong in ${ms} ms`, answer ? `pong after ${ms} ms (interval 1 s)` : `no pong for ping ${p.msg.payload.nonce}`, [p, answer]);
    }
  },
};

export const idleTraffic: Check = {
  kind: 'client',
  id: 'client/heartbeat/idle-traffic',
  title: 'An idle client still sends something within each heartbeat interval',
  requirements: ['6.4/traffic-each-interval', '2.2/heartbeat-interval'],
  scenarios: ['heartbeat'],
  description: 'In `heartbeat`, the runtime is silent for 2.6 s with an interval of 1 s: the client should send a message (a session.ping if it has nothing else) at least every second and a quarter.',
  judge(rs, j) {
    const r = run(rs, 'heartbeat')!;
    if (!welcomed(r, j, '6.4/traffic-each-interval')) return;
    if (!r.session.features.includes('heartbeat')) return j.notExercised('6.4/traffic-each-interval', 'the client did not offer `heartbeat`');
    const from = r.facts.silentFrom as number | undefined;
    const to = r.facts.silentTo as number | undefined;
    if (from === undefined || to === undefined) return j.notExercised('6.4/traffic-each-interval', `the silent phase did not complete (${ending(r)})`);
    const times = [from, ...frames(r, 'c2s').filter((f) => f.at > from && f.at <= to).map((f) => f.at), to];
    const gap = Math.max(...times.slice(1).map((t, i) => t - times[i]));
    for (const req of ['6.4/traffic-each-interval', '2.2/heartbeat-interval']) {
      j.expect(gap <= 1750, req, `the client's longest silence was ${Math.round(gap)} ms (interval 1 s)`, `the client was silent for ${Math.round(gap)} ms with a 1 s interval`);
    }
  },
};

export const acked: Check = {
  kind: 'client',
  id: 'client/ack/used',
  title: 'Whether the client acknowledges events',
  requirements: ['3/client-may-ack', '6.5/client-may-report'],
  scenarios: ['ack'],
  description: 'In `ack`: notes whether the client sent session.ack (it MAY); what it acks is judged by the wire/ack checks.',
  judge(rs, j) {
    const r = run(rs, 'ack')!;
    if (!welcomed(r, j, '3/client-may-ack')) return;
    const n = frames(r, 'c2s').filter((f) => f.msg.type === 'session.ack').length;
    j.info('3/client-may-ack', r.session.features.includes('ack') ? `${n} acks for 200 events` : 'the client did not offer `ack`');
    j.info('6.5/client-may-report', n ? 'the client reports its highest processed seq' : 'no acks');
  },
};

/** The same flow as `handshake` under a twist: it must still complete (judged against `handshake` as control). */
function tolerates(id: string, title: string, req: string, scen: string, what: string, level?: 'SHOULD'): Check {
  return {
    kind: 'client',
    id,
    title,
    requirements: [req],
    scenarios: ['handshake', scen],
    description: `In \`${scen}\`: ${what}; the client must finish as it does in \`handshake\` (which is the control: if that fails too, this check is skipped).`,
    judge(rs, j) {
      const control = run(rs, 'handshake')!;
      const r = run(rs, scen)!;
      if (!completed(control)) return j.notExercised(req, `the client does not complete the plain \`handshake\` scenario either (${ending(control)})`);
      if (scen === 'unknown-scheme' && !r.facts.credentials) return j.notExercised(req, 'the client did not offer `provisioned_credentials`, so no credential was sent');
      j.expect(completed(r), req, `the client finished \`${scen}\` as it finishes \`handshake\``, `the client finishes \`handshake\` but not \`${scen}\`: ${ending(r)}`, [], level);
    },
  };
}

export const unknownFields = tolerates('client/envelope/unknown-fields', 'Unknown envelope fields are ignored', '5/ignore-unknown-fields', 'unknown-fields', 'every runtime frame carries envelope fields no ARCP version defines');
export const vendorKinds = tolerates('client/events/vendor-kinds', 'Vendor and unknown event kinds are skipped', '5/ignore-unknown-fields', 'vendor-kinds', 'the job emits an x-vendor event kind, an unknown kind and an optional vendor message (forward compatibility; a warning, as 1.1 makes it no MUST)', 'SHOULD');
export const unknownScheme = tolerates('client/credentials/unknown-scheme', 'A credential of an unknown scheme is ignored', '9.8.1/ignore-unknown-schemes', 'unknown-scheme', 'job.accepted carries a credential of a scheme the client cannot know');

export const reassembly: Check = {
  kind: 'client',
  id: 'client/result-chunk/reassembly',
  title: 'The client assembles a streamed result from its decoded chunks in chunk_seq order',
  requirements: ['8.4/assembled'],
  scenarios: ['result-chunk'],
  description: 'In `result-chunk`: the size and sha256 the driver reports back (in the input of its second `echo`) must be those of the bytes the runtime streamed.',
  judge(rs, j) {
    const r = run(rs, 'result-chunk')!;
    if (!welcomed(r, j, '8.4/assembled')) return;
    if (!r.facts.chunked) return j.notExercised('8.4/assembled', 'the client did not offer `result_chunk`');
    const report = frames(r, 'c2s').filter((f) => f.msg.type === 'job.submit')[1];
    if (!report) return j.violation('8.4/assembled', `the client never reported the assembled result (${ending(r)})`);
    const got = report.msg.payload.input ?? {};
    j.expect(got.result_id === r.facts.resultId, '8.4/assembled', `result_id ${got.result_id}`, `reported result_id ${JSON.stringify(got.result_id)}, streamed ${r.facts.resultId}`, [report]);
    j.expect(got.size === r.facts.size && got.sha256 === r.facts.sha256, '8.4/assembled', `${got.size} bytes, sha256 matches`, `reported ${JSON.stringify(got.size)} bytes / sha256 ${String(got.sha256).slice(0, 16)}…, streamed ${r.facts.size} bytes / ${String(r.facts.sha256).slice(0, 16)}…`, [report]);
  },
};

export const resume: Check = {
  kind: 'client',
  id: 'client/resume/after-drop',
  title: 'After a dropped transport the client resumes with its last event_seq and the latest token',
  requirements: ['6.3/resume-presents', '7.7/clis-resume'],
  scenarios: ['resume'],
  description: 'In `resume`, the runtime drops the connection twice: each time the client must come back with a resume (not a fresh hello) naming the highest event_seq it received and the resume_token of the latest welcome (the second resume needs the token the first resume rotated to).',
  judge(rs, j) {
    const r = run(rs, 'resume')!;
    if (!welcomed(r, j, '6.3/resume-presents')) return;
    const list = r.session.resumes;
    if (!list.length) return j.violation('7.7/clis-resume', `the client did not reconnect after the drop (${ending(r)})`);
    j.pass('7.7/clis-resume', `${list.length} resumes`);
    if (list.some((x) => x.form === 'v1.0')) j.deviation('6.3/resume-presents', 'v1.0 form', 'the client resumes with session.hello carrying payload.resume', list.find((x) => x.form === 'v1.0')!.frame);
    list.forEach((x, i) => {
      if (x.form === 'fresh-hello') return j.violation('6.3/resume-presents', `after drop ${i + 1} the client opened a new session instead of resuming: the job is lost to it`, [x.frame]);
      j.expect(x.token === x.expectedToken, '6.3/resume-presents', `resume ${i + 1} presents the latest token`, `resume ${i + 1} presents ${x.token === undefined ? 'no token' : r.session.tokens.includes(x.token) ? 'a superseded token' : 'an unknown token'}, not the latest one`, [x.frame]);
      if (x.lastSeq === x.expectedSeq) j.pass('6.3/resume-presents', `resume ${i + 1}: last_event_seq ${x.lastSeq}`, x.frame);
      else j.violation('6.3/resume-presents', `resume ${i + 1}: last_event_seq ${x.lastSeq}, the client had received up to ${x.expectedSeq}`, [x.frame], typeof x.lastSeq === 'number' && x.lastSeq < x.expectedSeq ? 'SHOULD' : undefined);
    });
  },
};

export const gap: Check = {
  kind: 'client',
  id: 'client/seq/gap-resume',
  title: 'A gap in event_seq makes the client resume from before the gap',
  requirements: ['8.3/gap-resume'],
  scenarios: ['gap'],
  description: 'In `gap`, seq 2 is followed by seq 4: the client should drop the transport and resume with last_event_seq 2; going on, or resuming from 4, leaves seq 3 lost.',
  judge(rs, j) {
    const r = run(rs, 'gap')!;
    if (!welcomed(r, j, '8.3/gap-resume')) return;
    const after = r.facts.gapAfter as number | undefined;
    if (after === undefined) return j.notExercised('8.3/gap-resume', `the gap was never sent (${ending(r)})`);
    const x = r.session.resumes[0];
    if (!x) return j.violation('8.3/gap-resume', `the client went on past the gap after seq ${after} without resuming`);
    j.expect(x.form !== 'fresh-hello' && x.lastSeq === after, '8.3/gap-resume', `resumed with last_event_seq ${after}`, x.form === 'fresh-hello' ? 'the client opened a new session after the gap' : `the client resumed with last_event_seq ${x.lastSeq}: seq ${after + 1} stays lost`, [x.frame]);
  },
};

export const noCancel: Check = {
  kind: 'client',
  id: 'client/subscribe/no-cancel',
  title: 'The client does not cancel a job it only subscribed to',
  requirements: ['7.6/cancel-reserved'],
  scenarios: ['subscribe'],
  description: 'In `subscribe`: from listing to closing, the client must send no job.cancel for the job it subscribed to (cancellation is the submitter’s).',
  judge(rs, j) {
    const r = run(rs, 'subscribe')!;
    if (!welcomed(r, j, '7.6/cancel-reserved')) return;
    if (r.facts.notOffered) return j.notExercised('7.6/cancel-reserved', 'the client did not offer `list_jobs` and `subscribe`');
    const sub = frames(r, 'c2s').find((f) => f.msg.type === 'job.subscribe');
    if (!sub) return j.notExercised('7.6/cancel-reserved', `the client never subscribed (${ending(r)})`);
    const cancel = frames(r, 'c2s').find((f) => f.msg.type === 'job.cancel' && (f.msg.job_id ?? f.msg.payload.job_id) === r.facts.watched);
    j.expect(!cancel, '7.6/cancel-reserved', 'no job.cancel for the subscribed job', 'the client sent job.cancel for a job it only subscribed to', [cancel]);
  },
};

export const CLIENT_CHECKS: Check[] = [helloShape, closeSession, pong, idleTraffic, acked, unknownFields, vendorKinds, unknownScheme, reassembly, resume, gap, noCancel];
