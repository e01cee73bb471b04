import type { Msg } from '../../exchange.js';
import type { ServerContext } from '../context.js';
import type { SuiteSession } from '../session.js';
import { accepted, ev, orNothing, what, type Check } from './util.js';

const ids = (m: Msg): string[] => (Array.isArray(m.payload.jobs) ? m.payload.jobs.map((j: Msg) => j.job_id) : []);

/** Submits `n` long `slow` jobs and returns their ids; the check cancels them when done. */
async function slowJobs(ctx: ServerContext, s: SuiteSession, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await accepted(ctx, s, { agent: ctx.agent('slow'), input: { steps: 200, tickMs: 50, i } })).jobId);
  ctx.onCleanup(() => {
    for (const id of out) if (!s.peer.isClosed) s.cancel(id, 'conformance check done');
  });
  return out;
}

export const principalIsolation: Check = {
  kind: 'server',
  id: 'session/list-jobs/principal-isolation',
  title: "list_jobs shows a principal its own jobs and never another principal's",
  requirements: ['6.6/no-leak', '6.6/scope', '14/same-principal-default', '6.6/other-principals-by-policy'],
  needs: { features: ['list_jobs'], agents: ['slow'], secondPrincipal: true },
  description: "Starts `slow` as --token's principal; a second session of that principal must list it, a session of --token2's principal must not (with or without a filter), and neither may its job_id leak through cancel. With --observer-token, notes whether policy lets the observer list it.",
  async run(ctx) {
    const j = ctx.judge;
    const owner = await ctx.session();
    const [job] = await slowJobs(ctx, owner, 1);
    const mine = await ctx.session();
    const own = await mine.listJobs({});
    j.expect(ids(own.reply.msg).includes(job), '6.6/scope', "the submitter's principal lists its running job", `the submitter's own principal does not see its running job (${what(own.reply)})`, ev(own.reply));
    const other = await ctx.session({ token: ctx.opts.token2! });
    for (const payload of [{}, { filter: { agent: ctx.agent('slow') } }, { filter: { status: ['running'] } }]) {
      const r = await other.listJobs(payload);
      const leaked = ids(r.reply.msg).includes(job);
      j.expect(!leaked, '6.6/no-leak', `another principal's list (${JSON.stringify(payload)}) does not show the job`, `another principal's list (${JSON.stringify(payload)}) shows job ${job}`, ev(r.sent, r.reply));
      j.expect(!leaked, '14/same-principal-default', 'same principal only by default', `job ${job} visible to another principal without any policy saying so`, ev(r.reply));
    }
    if (ctx.opts.observerToken) {
      const obs = await ctx.session({ token: ctx.opts.observerToken });
      const r = await obs.listJobs({});
      j.info('6.6/other-principals-by-policy', ids(r.reply.msg).includes(job) ? 'the observer principal lists the job (policy permits)' : 'the observer principal does not list the job', ...ev(r.reply));
    } else j.notExercised('6.6/other-principals-by-policy', 'no --observer-token');
  },
};

export const filterAndPages: Check = {
  kind: 'server',
  id: 'session/list-jobs/filter-and-pages',
  title: 'list_jobs honours status, agent and created_after filters, limit and cursor',
  requirements: ['6.6/responds', '6.6/filters-optional', '6.6/client-may-list', '3/list-or-subscribe-any-time'],
  needs: { features: ['list_jobs'], agents: ['slow'] },
  description: 'Starts three `slow` jobs, then: lists without a filter; pages through everything with limit 2 (each page at most 2, no duplicates, a cursor while more remain, none at the end, all three found); filters on status running / success, on another agent, and on created_after one hour ahead and one hour back. Every answer must be session.jobs carrying the request id.',
  async run(ctx) {
    const j = ctx.judge;
    const s = await ctx.session();
    const mine = await slowJobs(ctx, s, 3);
    const all = await s.listJobs();
    j.expect(all.reply.msg.type === 'session.jobs' && all.reply.msg.payload.request_id === all.id, '6.6/responds', 'session.jobs with the request id', `${what(all.reply)} (request_id ${all.reply.msg.payload.request_id}), expected session.jobs for ${all.id}`, ev(all.sent, all.reply));
    j.expect(mine.every((id) => ids(all.reply.msg).includes(id)), '6.6/filters-optional', 'a list without filter shows all three running jobs', 'a list without filter misses a running job', ev(all.reply));
    j.info('3/list-or-subscribe-any-time', 'listed while jobs were running');
    const seen = new Set<string>();
    let cursor: string | null | undefined;
    let pages = 0;
    let overfull: Msg | undefined;
    let dup: string | undefined;
    do {
      const page = await s.listJobs(cursor ? { limit: 2, cursor } : { limit: 2 });
      const got = ids(page.reply.msg);
      if (got.length > 2) overfull = overfull ?? page.reply.msg;
      for (const id of got) {
        if (seen.has(id)) dup = dup ?? id;
        seen.add(id);
      }
      cursor = page.reply.msg.payload.next_cursor;
      pages++;
      if (got.length === 0 && cursor) break;
    } while (cursor && pages < 200);
    j.expect(!overfull, '6.6/responds', 'every page holds at most `limit` (2) jobs', `a page with limit 2 holds ${overfull ? ids(overfull).length : 0} jobs`);
    j.expect(!dup, '6.6/responds', 'no job appears on two pages', `job ${dup} appears on two pages`);
    j.expect(mine.every((id) => seen.has(id)), '6.6/responds', `paging found all three jobs in ${pages} pages`, 'paging with the cursor never reached one of the running jobs', []);
    j.expect(!cursor, '6.6/responds', 'the last page has no next_cursor', 'next_cursor never became null');
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['status running', { status: ['running'] }, true],
      ['status success', { status: ['success'] }, false],
      ['another agent', { agent: ctx.agent('echo') }, false],
      ['created_after one hour ahead', { created_after: new Date(Date.now() + 3600_000).toISOString() }, false],
      ['created_after one hour back', { created_after: new Date(Date.now() - 3600_000).toISOString() }, true],
    ];
    for (const [label, filter, expectIn] of cases) {
      const r = await s.listJobs({ filter, limit: 1000 });
      const got = ids(r.reply.msg);
      const ok = expectIn ? mine.every((id) => got.includes(id)) : mine.every((id) => !got.includes(id));
      j.expect(ok, '6.6/responds', `filter ${label}: ${expectIn ? 'all three shown' : 'none shown'}`, `filter ${label}: the running jobs ${expectIn ? 'are missing' : 'are shown'}`, ev(r.sent, r.reply));
    }
  },
};

export const listDoesNotSubscribe: Check = {
  kind: 'server',
  id: 'session/list-jobs/no-subscribe',
  title: 'Listing a job does not subscribe to its events',
  requirements: ['6.6/no-subscribe'],
  needs: { features: ['list_jobs'], agents: ['slow'] },
  description: "Starts `slow` in one session, lists it from a second session of the same principal, waits for three more of the job's events in the first session, then pings the second: no event of that job may have reached it.",
  async run(ctx) {
    const j = ctx.judge;
    const owner = await ctx.session();
    const [job] = await slowJobs(ctx, owner, 1);
    const lister = await ctx.session();
    const r = await lister.listJobs({});
    if (!ids(r.reply.msg).includes(job)) return ctx.skip('precondition: the second session does not list the job');
    const n = owner.events(job).length;
    await owner.peer.until(() => (owner.events(job).length >= n + 3 ? true : undefined), 'three more events', ctx.waitMs).catch(() => ctx.skip('precondition: the job stopped emitting events'));
    await orNothing(lister.ping());
    const leaked = lister.received.filter((x) => x.msg.job_id === job && x.msg.type === 'job.event');
    j.expect(leaked.length === 0, '6.6/no-subscribe', "the lister received none of the listed job's events", `the lister received ${leaked.length} events of a job it only listed`, ev(leaked[0]));
  },
};
