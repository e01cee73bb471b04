import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driveReplay } from '../../src/replay/driver.js';
import { serveReplay } from '../../src/replay/serve.js';
import { importJsonl } from '../../src/tape/interchange/import-jsonl.js';
import { CAPTURES_DIR, captureFiles } from '../helpers/captures.js';
import { tapeDir } from '../helpers/tape.js';

const tape = tapeDir();

describe('every peer capture, imported as a tape, replays clean against a scripted client', () => {
  it.each(captureFiles())('%s', async (file) => {
    const path = tape(file.replace('.jsonl', '.tape'));
    await importJsonl({ source: join(CAPTURES_DIR, file), tape: path });
    const progress = { runtime: { frames: 0, total: 0 }, client: { frames: 0, total: 0 } };
    const served = await serveReplay({ tape: path, listen: {}, timeoutMs: 3000, progress: progress.runtime });
    // The scripted client: the same tape played from the client side, frame for frame.
    const client = await driveReplay({ tape: path, target: served.addresses.ws!, timeoutMs: 3000, progress: progress.client });
    const runtime = await served.done;
    expect(runtime.divergences).toEqual([]);
    expect(client.divergences).toEqual([]);
    expect(runtime.replayFingerprint).toBe(runtime.tapeFingerprint);
    // The progress counters saw every frame the reports count.
    expect(progress.runtime.frames).toBe(runtime.frames.replayed);
    expect(progress.client.frames).toBe(client.frames.replayed);
  });
});
