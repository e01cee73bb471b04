import { basename } from 'node:path';
import { specMismatch } from '../tape/spec-pin.js';
import { TapeReader } from '../tape/reader.js';
import type { Side, WireCheck } from './check.js';
import { logFrame, type ConnLog, type Exchange } from './exchange.js';
import type { ConformReport } from './report.js';
import { finish, selectChecks, type RawResult } from './results.js';
import { Judge } from './verdict.js';
import { WIRE_CHECKS } from './wire/index.js';

export interface TapeSuiteOptions {
  tapes: string[];
  /** Whose obligations to judge; the peer captures' clients probe runtimes on purpose, so the default is the runtime. */
  subjects?: Side[];
  only?: string[];
  skip?: string[];
  strict?: boolean;
  expectedFailures?: string[];
  /** Write each tape's execution records beside it and list them in the report. */
  records?: boolean;
}

/** A tape's ARCP connections (WebSocket and stdio channels) as an exchange the wire checks read. */
export function tapeExchange(path: string): { exchange: Exchange; specSha256: string } {
  const t = TapeReader.open(path);
  try {
    const conns = new Map<number, ConnLog>();
    const exchange: Exchange = { name: basename(path), tape: path, conns: [] };
    for (const ch of t.channels()) {
      if (ch.kind === 'http') continue;
      const log: ConnLog = { label: ch.info.conn ?? ch.label, frames: [] };
      conns.set(ch.id, log);
      exchange.conns.push(log);
    }
    for (const f of t.frames()) {
      const log = conns.get(f.channel);
      if (!log) continue;
      const at = f.mono_us / 1000;
      if (f.kind === 'ws.text' || f.kind === 'ws.binary' || f.kind === 'stdio.line') {
        if (f.dir !== 'meta') logFrame(log, f.seq, f.dir, at, f.data, f.kind === 'ws.binary', path);
      } else if ((f.kind === 'ws.close' || f.kind === 'transport.close') && !log.closed) {
        let info: { code?: number; reason?: string; error?: string } = {};
        try {
          info = JSON.parse(f.data.toString('utf8'));
        } catch {
          // a close event without detail
        }
        log.closed = { at, by: f.dir === 'meta' ? 'meta' : f.dir, code: info.code, reason: info.reason, error: info.error };
      }
    }
    return { exchange, specSha256: t.meta.spec_sha256 };
  } finally {
    t.close();
  }
}

/** `arcp conform tape`: every wire check over recorded traffic. */
export function runTapeSuite(o: TapeSuiteOptions): ConformReport {
  const startedAt = new Date();
  const selected = selectChecks(WIRE_CHECKS, o.only, o.skip) as WireCheck[];
  const subjects = new Set<Side>(o.subjects ?? ['runtime']);
  const notes: ConformReport['notes'] = [];
  const exchanges = o.tapes.map((p) => {
    const { exchange, specSha256 } = tapeExchange(p);
    const pin = specMismatch(p, specSha256);
    if (pin) notes.push({ level: 'warning', message: `${pin}: judged against this arcp's text` });
    return exchange;
  });
  const raw: RawResult[] = selected
    .filter((w) => w.subjects.some((s) => subjects.has(s)))
    .map((w) => {
      const t0 = performance.now();
      const j = new Judge();
      w.judge(exchanges, j, { subjects: new Set(w.bothSides ? w.subjects : w.subjects.filter((s) => subjects.has(s))), mode: 'tape' });
      return { check: w, findings: j.findings, tape: o.tapes.length === 1 ? o.tapes[0] : undefined, durationMs: performance.now() - t0 };
    });
  return finish(raw, { mode: 'tape', target: o.tapes.join(' '), startedAt, strict: o.strict, expectedFailures: o.expectedFailures, notes, records: o.records, readTapes: o.tapes });
}
