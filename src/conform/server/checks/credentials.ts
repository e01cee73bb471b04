import type { Msg } from '../../exchange.js';
import type { ServerContext } from '../context.js';
import type { SuiteSession } from '../session.js';
import { accepted, ev, orNothing, what, type Check } from './util.js';

const LEASE = { 'model.use': ['tier-fast/*'], 'cost.budget': ['USD:2.00'] };
const NEEDS = { features: ['provisioned_credentials', 'model.use', 'cost.budget'], agents: ['llm'] } as const;

const creds = (m: Msg | undefined): Msg[] | undefined => (Array.isArray(m?.payload.credentials) ? m!.payload.credentials : undefined);

async function llmJob(ctx: ServerContext, s: SuiteSession) {
  const a = await accepted(ctx, s, { agent: ctx.agent('llm'), lease_request: LEASE });
  const list = creds(a.accepted.msg);
  if (!list?.length) return ctx.skip('precondition: job.accepted for `llm` carries no credentials (the runtime provisions none)');
  return { ...a, creds: list! };
}

export const issued: Check = {
  kind: 'server',
  id: 'credentials/issued',
  title: 'Provisioned credentials come with job.accepted, one set per job, never reused',
  requirements: ['9.8.2/issue-by-accepted', '9.8.1/credential-objects', '9.8.2/no-reuse', '9.8.2/scoped-to-job', '9.8/may-provision', '14/encrypted-transport'],
  needs: NEEDS,
  description: 'Runs `llm` twice with model.use and cost.budget in the lease. Each job.accepted must carry credentials (id, scheme, value, endpoint); no value or id may repeat across the two jobs; and no job event may be the first to bring one.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const first = await llmJob(ctx, s);
    const second = await llmJob(ctx, s);
    j.info('9.8/may-provision', `${first.creds.length} credential(s) per job`);
    j.pass('9.8.2/issue-by-accepted', 'credentials arrived in job.accepted', ...ev(first.accepted));
    const bad = [...first.creds, ...second.creds].find((c) => !['id', 'scheme', 'value', 'endpoint'].every((k) => typeof c[k] === 'string'));
    j.expect(!bad, '9.8.1/credential-objects', 'each credential has id, scheme, value, endpoint', `a credential lacks a field: ${JSON.stringify(bad ?? {}).replace(/"value":"[^"]*"/, '"value":"…"')}`, ev(first.accepted, second.accepted));
    const values = new Set(first.creds.map((c) => c.value));
    const ids = new Set(first.creds.map((c) => c.id));
    j.expect(!second.creds.some((c) => values.has(c.value)), '9.8.2/no-reuse', 'the second job got fresh values', 'a credential value was reused across jobs', ev(first.accepted, second.accepted));
    j.expect(!second.creds.some((c) => ids.has(c.id)), '9.8.2/scoped-to-job', 'credential ids are per job', 'a credential id was reused across jobs', ev(second.accepted));
    if (ctx.opts.target.encrypted) j.pass('14/encrypted-transport', 'credentials travelled over wss://');
    else if (ctx.opts.target.local) j.info('14/encrypted-transport', `${ctx.opts.target.kind === 'stdio' ? 'stdio' : 'loopback ws://'}: no network path, encryption not judged`);
    else j.violation('14/encrypted-transport', `credentials were issued over unencrypted ${ctx.opts.target.describe}`, ev(first.accepted));
  },
};

export const constraints: Check = {
  kind: 'server',
  id: 'credentials/constraints',
  title: "A credential's constraints echo the lease it is baked from",
  requirements: ['9.8.1/constraints-echo', '9.8.3/bake-capabilities', '9.8.3/model-list', '9.8.3/budget-spend-cap', '9.8.3/expiry-ttl', '9.7/bake-into-credential'],
  needs: { ...NEEDS, features: [...NEEDS.features, 'lease_expires_at'] },
  description: "Runs `llm` with model.use, cost.budget and expires_at: the credential's constraints should carry all three (the draft's shape is lease-shaped keys; the reference SDK's {allowed_models, max_spend} is accepted with a named warning).",
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const a = await accepted(ctx, s, { agent: ctx.agent('llm'), lease_request: LEASE, lease_constraints: { expires_at: expires } });
    const c = creds(a.accepted.msg)?.[0];
    if (!c) return ctx.skip('precondition: job.accepted for `llm` carries no credentials');
    const k = c.constraints;
    if (!k || typeof k !== 'object') {
      j.violation('9.8.3/bake-capabilities', 'the credential has no constraints', ev(a.accepted));
      return;
    }
    if ('allowed_models' in k || 'max_spend' in k) {
      j.deviation('9.8.1/constraints-echo', 'deviates from draft', `constraints use {allowed_models, max_spend} (${JSON.stringify(k)}) instead of lease-shaped keys`, ...ev(a.accepted));
      j.expect(Array.isArray(k.allowed_models), '9.8.3/model-list', 'allowed_models carries model.use', 'model.use is not in the constraints', ev(a.accepted));
      j.expect(k.max_spend !== undefined, '9.8.3/budget-spend-cap', 'max_spend carries cost.budget', 'cost.budget is not in the constraints', ev(a.accepted));
      j.notExercised('9.8.3/expiry-ttl', 'the {allowed_models, max_spend} shape has no key for expires_at');
      j.expect(Array.isArray(k.allowed_models), '9.7/bake-into-credential', 'model.use baked in', 'model.use not baked in', ev(a.accepted));
      j.expect(Array.isArray(k.allowed_models) && k.max_spend !== undefined, '9.8.3/bake-capabilities', 'the lease capabilities are baked in', 'a lease capability is missing from the constraints', ev(a.accepted));
      return;
    }
    j.pass('9.8.1/constraints-echo', 'lease-shaped constraints', ...ev(a.accepted));
    const model = JSON.stringify(k['model.use']) === JSON.stringify(LEASE['model.use']);
    const budget = JSON.stringify(k['cost.budget']) === JSON.stringify(LEASE['cost.budget']);
    const ttl = typeof k.expires_at === 'string' && Date.parse(k.expires_at) <= Date.parse(expires);
    j.expect(model, '9.8.3/model-list', 'model.use in the constraints', `model.use in the constraints is ${JSON.stringify(k['model.use'])}`, ev(a.accepted));
    j.expect(model, '9.7/bake-into-credential', 'model.use baked in', 'model.use not baked in', ev(a.accepted));
    j.expect(budget, '9.8.3/budget-spend-cap', 'cost.budget in the constraints', `cost.budget in the constraints is ${JSON.stringify(k['cost.budget'])}`, ev(a.accepted));
    j.expect(ttl, '9.8.3/expiry-ttl', 'expires_at bounds the credential', `expires_at in the constraints is ${JSON.stringify(k.expires_at)}`, ev(a.accepted));
    j.expect(model && budget && ttl, '9.8.3/bake-capabilities', 'every lease capability is baked in', 'a lease capability is missing from the constraints', ev(a.accepted));
  },
};

export const submitterOnly: Check = {
  kind: 'server',
  id: 'credentials/submitter-only',
  title: "Credentials reach the submitter's principal only, never another observer",
  requirements: ['7.6/credentials-submitter-only', '14/subscribers-no-credentials'],
  needs: { ...NEEDS, features: [...NEEDS.features, 'subscribe', 'list_jobs'], reconnect: true, observer: true },
  description: "Runs `llm`; a second session of the submitter's principal lists and subscribes to it (credentials must be included), then the --observer-token principal does the same (credentials must be absent from both answers).",
  async run(ctx) {
    const j = ctx.judge;
    const owner = await ctx.session();
    const a = await llmJob(ctx, owner);
    await orNothing(owner.terminal(a.jobId));
    const look = async (s: SuiteSession) => {
      const list = await s.listJobs({});
      const entry = (list.reply.msg.payload.jobs ?? []).find((x: Msg) => x.job_id === a.jobId);
      const sub = await s.subscribe({ job_id: a.jobId, history: false });
      return { list, entry, sub };
    };
    const mine = await look(await ctx.session());
    if (mine.sub.reply.msg.type !== 'job.subscribed' && !mine.entry) return ctx.skip('precondition: the finished `llm` job is neither listed nor subscribable any more');
    if (mine.sub.reply.msg.type === 'job.subscribed') j.expect(Boolean(creds(mine.sub.reply.msg)?.length), '7.6/credentials-submitter-only', "job.subscribed includes credentials for the submitter's principal", "job.subscribed omits credentials for the submitter's own principal", ev(mine.sub.reply));
    if (mine.entry) j.expect(Boolean(mine.entry.credentials?.length), '7.6/credentials-submitter-only', "the listing includes credentials for the submitter's principal", "the listing omits credentials for the submitter's own principal", ev(mine.list.reply));
    const obs = await look(await ctx.session({ token: ctx.opts.observerToken! }));
    if (obs.sub.reply.msg.type !== 'job.subscribed' && !obs.entry) {
      j.notExercised('14/subscribers-no-credentials', `the --observer-token principal may not observe the job (${what(obs.sub.reply)}): give a token the runtime lets observe --token's jobs`);
      return;
    }
    if (obs.sub.reply.msg.type === 'job.subscribed') {
      const shown = Boolean(creds(obs.sub.reply.msg));
      j.expect(!shown, '14/subscribers-no-credentials', 'job.subscribed for the observer has no credentials', 'job.subscribed shows credentials to an observer who did not submit the job', ev(obs.sub.reply));
      j.expect(!shown, '7.6/credentials-submitter-only', 'redacted for the observer', 'not redacted for the observer', ev(obs.sub.reply));
    }
    if (obs.entry) {
      const shown = obs.entry.credentials !== undefined;
      j.expect(!shown, '14/subscribers-no-credentials', "the observer's listing has no credentials", "the observer's listing shows credentials", ev(obs.list.reply));
      j.expect(!shown, '7.6/credentials-submitter-only', 'redacted in the listing', 'not redacted in the listing', ev(obs.list.reply));
    }
  },
};
