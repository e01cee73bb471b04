import { ALL_FEATURES } from '../session.js';
import { accepted, codeOf, ev, orNothing, what, type Check } from './util.js';

export const welcomeFields: Check = {
  kind: 'server',
  id: 'session/hello/welcome-fields',
  title: 'The welcome carries session_id, resume_token, capabilities with an agent inventory, and the heartbeat interval',
  requirements: ['3/welcome-fields', '6.2/intersection'],
  description: 'Says hello offering heartbeat and progress only; the welcome must name the session, give a resume token, list agents with their versions, and give heartbeat_interval_sec when heartbeat is acknowledged.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session({ features: ['heartbeat', 'progress'] });
    const w = s.peer.find((m) => m.type === 'session.welcome')!;
    const p = w.msg.payload;
    j.expect(typeof w.msg.session_id === 'string' && w.msg.session_id.length > 0, '3/welcome-fields', `session_id ${w.msg.session_id}`, 'the welcome has no session_id', ev(w));
    j.expect(typeof p.resume_token === 'string' && p.resume_token.length > 0, '3/welcome-fields', 'resume_token given', 'the welcome has no resume_token', ev(w));
    const agents: unknown = p.capabilities?.agents;
    if (!Array.isArray(agents)) j.violation('3/welcome-fields', 'capabilities.agents is missing: no agent inventory', ev(w));
    else if (agents.some((a) => typeof a === 'string')) j.deviation('3/welcome-fields', 'v1.0 form', 'agents are listed as bare names, without versions', ...ev(w));
    else j.expect(agents.every((a) => a && typeof a.name === 'string' && Array.isArray(a.versions)), '3/welcome-fields', `${agents.length} agents with versions`, 'an agent entry lacks name or versions', ev(w));
    if (s.has('heartbeat')) {
      j.expect(typeof p.heartbeat_interval_sec === 'number' && p.heartbeat_interval_sec > 0, '3/welcome-fields', `heartbeat_interval_sec ${p.heartbeat_interval_sec}`, 'heartbeat acknowledged without heartbeat_interval_sec', ev(w));
    }
    const listed: unknown = p.capabilities?.features;
    j.expect(Array.isArray(listed), '6.2/intersection', `effective features [${[...s.features].join(', ')}]`, 'the welcome has no capabilities.features list, so no feature is in effect', ev(w));
  },
};

/** A feature the suite leaves out must not be used; the same job with it offered shows the agent would have used it. */
function gated(o: { id: string; title: string; feature: string; agent: string; input: Record<string, unknown>; kind: string }): Check {
  return {
    kind: 'server',
    id: o.id,
    title: o.title,
    requirements: ['6.2/no-feature-outside-intersection', '6.2/intersection'],
    needs: { features: [o.feature], agents: [o.agent] },
    description: `Runs \`${o.agent}\` twice: in a session that offers \`${o.feature}\` (it must emit \`${o.kind}\` events, or nothing is proven) and in one that does not (it must emit none).`,
    async run(ctx) {
      const j = ctx.judge;
      const withIt = await ctx.session();
      const a = await accepted(ctx, withIt, { agent: ctx.agent(o.agent), input: o.input });
      await withIt.terminal(a.jobId);
      const shown = withIt.events(a.jobId).filter((r) => r.msg.payload.kind === o.kind);
      if (!shown.length) {
        j.notExercised('6.2/no-feature-outside-intersection', `\`${o.agent}\` emitted no ${o.kind} events even with \`${o.feature}\` negotiated, so their absence proves nothing`);
        return;
      }
      const without = await ctx.session({ features: ALL_FEATURES.filter((f) => f !== o.feature) });
      j.expect(!without.has(o.feature), '6.2/intersection', `\`${o.feature}\` is not in effect`, `\`${o.feature}\` counted as in effect though the hello did not offer it`);
      const b = await accepted(ctx, without, { agent: ctx.agent(o.agent), input: o.input });
      const end = await without.terminal(b.jobId);
      const leaked = without.events(b.jobId).filter((r) => r.msg.payload.kind === o.kind);
      j.expect(
        leaked.length === 0,
        '6.2/no-feature-outside-intersection',
        `no ${o.kind} events without \`${o.feature}\` (${shown.length} with it); the job ended with ${what(end)}`,
        `${leaked.length} ${o.kind} events sent to a session that did not negotiate \`${o.feature}\``,
        ev(leaked[0], end),
      );
    },
  };
}

export const progressGated = gated({
  id: 'session/features/progress-gated',
  title: 'progress events go only to sessions that negotiated `progress`',
  feature: 'progress',
  agent: 'progress',
  input: { total: 3, tickMs: 5 },
  kind: 'progress',
});

export const resultChunkGated = gated({
  id: 'session/features/result-chunk-gated',
  title: 'result_chunk events go only to sessions that negotiated `result_chunk`',
  feature: 'result_chunk',
  agent: 'report',
  input: { chunks: 3, chunkBytes: 64 },
  kind: 'result_chunk',
});

export const badToken: Check = {
  kind: 'server',
  id: 'session/auth/bad-token',
  title: 'A hello with an unknown or missing bearer token gets UNAUTHENTICATED and no session',
  requirements: ['6.1/bearer-token', '12/unauthenticated'],
  description: 'Says hello with a token the runtime cannot know, then with no auth at all; each must be refused with UNAUTHENTICATED, and a job.submit after the refusal must not be accepted.',
  async run(ctx) {
    const j = ctx.judge;
    for (const [label, auth] of [
      ['an unknown token', { scheme: 'bearer', token: `conform-wrong-${Date.now()}` }],
      ['no auth', undefined],
    ] as const) {
      const peer = await ctx.connect();
      const from = peer.mark;
      const payload: Record<string, unknown> = { client: { name: 'arcp-conform', version: '0.1.0' }, capabilities: { encodings: ['json'], features: ALL_FEATURES } };
      if (auth) payload.auth = auth;
      const hello = peer.send('session.hello', payload);
      const r = await peer.maybe((m) => m.type === 'session.welcome' || m.type === 'session.error' || m.type === 'job.error', ctx.waitMs, from);
      if (r?.msg.type === 'session.welcome') {
        j.violation('6.1/bearer-token', `a hello with ${label} was welcomed into session ${r.msg.session_id}`, ev(hello.frame, r));
        continue;
      }
      j.expect(codeOf(r) === 'UNAUTHENTICATED', '12/unauthenticated', `a hello with ${label}: ${what(r)}`, `a hello with ${label}: ${r ? what(r) : peer.isClosed ? 'the connection closed without an error' : 'no answer'}, expected UNAUTHENTICATED`, ev(hello.frame, r));
      if (peer.isClosed) {
        j.pass('6.1/bearer-token', `the runtime closed the connection after refusing ${label}`);
        continue;
      }
      const after = peer.mark;
      const submit = peer.send('job.submit', { agent: ctx.agent('echo'), input: { after: 'refused hello' } });
      const answer = await peer.maybe((m) => m.type === 'job.accepted' || m.type === 'session.error' || m.type === 'job.error', ctx.waitMs, after);
      j.expect(answer?.msg.type !== 'job.accepted', '6.1/bearer-token', `no job accepted after refusing ${label} (${answer ? what(answer) : 'no answer'})`, `a job was accepted on a connection whose hello (${label}) was refused`, ev(submit.frame, answer));
    }
  },
};

export const unknownFields: Check = {
  kind: 'server',
  id: 'envelope/unknown-fields',
  title: 'Unknown top-level envelope fields are ignored',
  requirements: ['5/ignore-unknown-fields'],
  needs: { agents: ['echo'] },
  description: 'Sends the hello and a job.submit with envelope fields no version of ARCP defines; the runtime must welcome and run the job as if they were absent.',
  async run(ctx) {
    const j = ctx.judge;
    const extra = { x_conformance_future: { nested: [1, 2, 3] }, x_conformance_flag: true };
    const s = await ctx.session({ extra }).catch(() => undefined);
    if (!s) {
      j.violation('5/ignore-unknown-fields', 'the hello was refused once it carried unknown envelope fields');
      return;
    }
    j.pass('5/ignore-unknown-fields', 'hello with unknown fields welcomed');
    const input = { probe: 'unknown-fields' };
    const out = await s.submit({ agent: ctx.agent('echo'), input }, extra);
    if (!out.accepted) {
      j.violation('5/ignore-unknown-fields', `a job.submit with unknown envelope fields was refused: ${what(out.rejected)} ${out.rejected?.msg.payload.message ?? ''}`, ev(out.sent, out.rejected));
      return;
    }
    const end = await orNothing(s.terminal(out.jobId!));
    j.expect(end?.msg.type === 'job.result', '5/ignore-unknown-fields', 'the job ran to its result', `the job ended with ${what(end)}`, ev(out.sent, end));
  },
};

export const invalidFrames: Check = {
  kind: 'server',
  id: 'envelope/invalid-request',
  title: 'A malformed frame, an unknown message type and a schema violation get INVALID_REQUEST',
  requirements: ['12/invalid-request'],
  needs: { agents: ['echo'] },
  description: 'In an open session sends text that is not JSON, a message of a type ARCP does not define, and a job.submit without `agent`; each should get an INVALID_REQUEST error, and the session must still accept a job afterwards.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const probes: [string, () => ReturnType<typeof s.send>['frame']][] = [
      ['text that is not JSON', () => s.peer.sendText('{"this is": not json')],
      ['an unknown message type', () => s.send('session.frobnicate', {}).frame],
      ['a job.submit without agent', () => s.send('job.submit', { input: {} }).frame],
    ];
    for (const [label, send] of probes) {
      const from = s.peer.mark;
      const sent = send();
      const r = await s.peer.maybe((m) => m.type === 'session.error' || m.type === 'job.error', ctx.waitMs, from);
      j.expect(codeOf(r) === 'INVALID_REQUEST', '12/invalid-request', `${label}: ${what(r)}`, `${label}: ${r ? what(r) : 'no error came back'}, expected INVALID_REQUEST`, ev(sent, r));
    }
    const after = await orNothing(s.submit({ agent: ctx.agent('echo'), input: { after: 'invalid frames' } }));
    if (!after?.accepted) j.violation('12/invalid-request', `the session stopped serving after the invalid frames (${after ? what(after.rejected) : 'no answer to job.submit'})`);
  },
};
