import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactionRules } from '../../src/record/recorder.js';
import { attachRecords } from '../../src/records/attach.js';
import { deriveRecords } from '../../src/records/derive.js';
import { evidenceLinks, recordsPerJob } from '../../src/records/per-job.js';
import { RecordsDocument } from '../../src/records/schema.js';
import { verifyRecords } from '../../src/records/verify.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { CAPTURES_DIR } from '../helpers/captures.js';
import { arcp } from '../helpers/cli.js';
import { tapeDir } from '../helpers/tape.js';

/** What other commands build on: records per job with evidence links (a report), and records attached beside a check's tape (conform). */
const tape = tapeDir()('delegate.tape');
beforeAll(async () => {
  await importJsonl({ source: join(CAPTURES_DIR, 'delegate.jsonl'), tape, redaction: redactionRules({}) });
});

describe('records as a library', () => {
  it('recordsPerJob: each job with its own record first, its actions after, a child naming its parent', () => {
    const groups = recordsPerJob(deriveRecords(tape));
    expect(groups).toHaveLength(2);
    const [parent, child] = groups;
    expect(parent.job?.event.action).toBe('job:parent');
    expect(parent.actions.map((r) => [r.kind, r.event.status])).toEqual([
      ['delegation', 'ok'],
      ['delegation', 'error'],
    ]);
    expect(child).toMatchObject({ parent: parent.jobId, actions: [] });
    expect(child.job?.event.action).toBe('job:child');
  });

  it('evidenceLinks: every field\'s frames, with the command that shows each; the command shows that very frame', async () => {
    const [job] = deriveRecords(tape).records;
    const links = evidenceLinks(job, tape);
    const output = links.find((l) => l.field === 'output')!;
    expect(output).toMatchObject({ pointer: '/payload/result', show: `arcp tape show ${tape} --frame ${output.seq}` });
    const shown = await arcp([...output.show.split(' ').slice(1), '--json']);
    expect(JSON.parse(shown.stdout).frame.hash).toBe(output.sha256);
  });

  it('attachRecords: the records written beside the tape, summed up, and true of it', () => {
    const a = attachRecords(tape);
    expect(a.path).toBe(tape.replace(/\.tape$/, '.records.json'));
    expect(a).toMatchObject({ records: 4, byKind: { job: 2, delegation: 2 }, errors: 1 });
    expect(RecordsDocument.parse(JSON.parse(readFileSync(a.path, 'utf8'))).tape.fingerprint).toBe(a.fingerprint);
    expect(verifyRecords(a.path, tape).ok).toBe(true);
    expect(attachRecords(tape).sha256).toBe(a.sha256); // replaced, and the same bytes again
  });
});
