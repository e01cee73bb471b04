import { describe, expect, it } from 'vitest';
import { ArcpClient } from '../../src/client/client.js';
import { spawnStdio } from '../../src/engine/transport/stdio.js';
import { BIN } from '../helpers/cli.js';


describe('reference runtime over stdio (arcp serve --stdio, a real child process)', () => {
  it('handshakes, runs jobs, refuses bad lines, and exits when stdin closes', async () => {
    const t = spawnStdio(process.execPath, [BIN, 'serve', '--stdio', '--token', 'tok=alice']);
    const c = await ArcpClient.connect(async () => t, { token: 'tok', requestTimeoutMs: 10_000 });
    expect(c.sessionId).toMatch(/^sess_/);
    const echo = c.submit({ agent: 'echo', input: { via: 'stdio' } });
    expect((await echo.done).result).toEqual({ echoed: { via: 'stdio' } });
    const prog = c.submit({ agent: 'progress', input: { total: 3, tickMs: 5 } });
    expect((await prog.done).result).toEqual({ indexed: 3 });
    expect(prog.events.map((e) => e.body.current)).toEqual([1, 2, 3]);
    const errors: string[] = [];
    c.on('session-error', (e) => errors.push(e.code));
    t.send('this is not json');
    const list = await c.listJobs();
    expect(list.jobs.map((j) => j.job_id)).toEqual([echo.jobId, prog.jobId]);
    expect(errors).toEqual(['INVALID_REQUEST']);
    const exited = new Promise((r) => t.onClose(r));
    await c.close();
    t.close();
    expect(await exited).toMatchObject({ code: 0 });
  });
});
