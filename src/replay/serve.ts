import type { Readable, Writable } from 'node:stream';
import { StdioTransport } from '../engine/transport/stdio.js';
import { listenWebSocket, type WsListener } from '../engine/transport/websocket.js';
import { ToolError } from '../errors.js';
import { TapeReader } from '../tape/reader.js';
import { unfiredNotes, type Fault } from './faults.js';
import { Echoes } from './echo.js';
import { recordedOrderGate } from './gate.js';
import { loadExchanges, startHttpPlayer, type HttpServeOptions } from './http-player.js';
import { HttpMatcher } from './http-match.js';
import { IdMap } from './ids.js';
import { Outcome } from './outcome.js';
import { Player, type PlayOptions } from './player.js';
import type { ReplayReport } from './report.js';
import { ChannelScript, type ReplayProgress } from './script.js';
import { Volatility, type VolatileRules } from './volatile.js';

export interface ServeReplayOptions {
  tape: string;
  /** Serve the recorded runtime side on a WebSocket listener. */
  listen?: { host?: string; port?: number };
  /** …or on a pair of streams (this process's stdin/stdout for `--stdio`). */
  stdio?: { input: Readable; output: Writable };
  /** Serve the recorded HTTP exchanges offline (or with a record or passthrough mode). */
  http?: HttpServeOptions;
  volatile?: VolatileRules;
  pace?: 'fast' | 'recorded';
  speed?: number;
  faults?: Fault[];
  timeoutMs?: number;
  /** How long to wait for a client to open the next recorded connection (the first included). */
  connectTimeoutMs?: number;
  keepGoing?: boolean;
  /** Counts the frames played, for a progress line. */
  progress?: ReplayProgress;
}

export interface ServingReplay {
  addresses: { ws?: string; http?: string };
  /** Resolves when every recorded channel has been played (or at the first divergence). */
  done: Promise<ReplayReport>;
  /** Ends early (SIGINT) and reports what was played. */
  stop(): Promise<ReplayReport>;
}

/** `arcp replay --listen | --stdio [--http-port]`: the tape plays the runtime (and the LLM APIs) to a live client. */
export async function serveReplay(o: ServeReplayOptions): Promise<ServingReplay> {
  const tape = TapeReader.open(o.tape);
  const channels = tape.channels();
  const messageChannels = channels.filter((c) => c.kind !== 'http');
  const firstSeqs = messageChannels.length > 1 ? tape.firstSeqs() : undefined;
  tape.close();
  const httpChannels = channels.filter((c) => c.kind === 'http');
  const wantMessages = Boolean(o.listen || o.stdio);
  if (wantMessages && !messageChannels.length) throw new ToolError('E_INPUT', `${o.tape} has no ARCP channels to replay`, httpChannels.length ? 'it holds HTTP exchanges: use --http-port' : 'record one with `arcp record`');
  if (o.http && !httpChannels.length) throw new ToolError('E_INPUT', `${o.tape} has no HTTP channels to replay`, 'drop --http-port, or record the LLM calls with `arcp record --http`');
  if (o.stdio && messageChannels.length > 1) throw new ToolError('E_USAGE', `${o.tape} has ${messageChannels.length} connections; stdio replays one`, 'replay it with --listen');

  const vol = new Volatility(o.volatile);
  const ids = new IdMap();
  const echoes = new Echoes();
  const outcome = new Outcome(o.tape, wantMessages ? 'runtime' : 'http', ids, [echoes]);
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const scripts: ChannelScript[] = [];
  const players: Promise<void>[] = [];
  let pendingChannels = wantMessages ? messageChannels.length : 0;
  let httpDone = !o.http;
  let tapeError: unknown;
  const maybeFinish = () => {
    if ((pendingChannels === 0 && httpDone) || (outcome.divergences.length && !o.keepGoing)) finish();
  };
  const messageIds = new Set(messageChannels.map((c) => c.id));
  const play: PlayOptions = {
    vol,
    ids,
    echoes,
    // Several connections keep their recorded order across each other.
    gate: firstSeqs && recordedOrderGate(new Map([...firstSeqs].filter(([ch]) => messageIds.has(ch)))),
    pace: o.pace ?? 'fast',
    speed: o.speed ?? 1,
    faults: o.faults ?? [],
    timeoutMs: o.timeoutMs ?? 10_000,
    keepGoing: o.keepGoing ?? false,
    onDivergence: (d) => {
      outcome.divergences.push(d);
      maybeFinish();
    },
    note: outcome.note,
    onTapeError: (e) => {
      tapeError ??= e;
      finish();
    },
  };
  const startPlayer = (t: ConstructorParameters<typeof Player>[1]) => {
    const next = messageChannels[scripts.length];
    if (!next) {
      outcome.divergences.push({ reason: 'extra', channel: 0, seq: 0, dir: 'meta', message: `the client opened connection ${scripts.length + 1}; the recording has ${messageChannels.length}`, fields: [], context: [] });
      t.close(1008, 'arcp replay: no such connection in the tape');
      maybeFinish();
      return;
    }
    const script = new ChannelScript(o.tape, next, o.progress);
    scripts.push(script);
    live++;
    waitForClient.stop();
    const p = new Player(script, t, play).done.then(() => {
      pendingChannels--;
      if (--live === 0 && pendingChannels > 0) waitForClient.start();
      maybeFinish();
    });
    players.push(p);
  };
  // No client ever (or no next one): the wait for a connection is bounded too.
  let live = 0;
  const connectMs = o.connectTimeoutMs ?? 60_000;
  const waitForClient = timer(connectMs, () => {
    const next = messageChannels[scripts.length];
    outcome.divergences.push({ reason: 'missing', channel: next.id, seq: 0, dir: 'meta', message: `no client opened connection ${scripts.length + 1} of ${messageChannels.length} within ${connectMs / 1000} s (--connect-timeout)`, fields: [], context: [] });
    finish();
  });

  let listener: WsListener | undefined;
  if (o.listen) {
    listener = await listenWebSocket({ host: o.listen.host, port: o.listen.port, skipUTF8Validation: true }, (t) => startPlayer(t));
    waitForClient.start();
  }
  if (o.stdio) startPlayer(new StdioTransport(o.stdio.input, o.stdio.output, undefined, false).keepEmptyLines());
  let http: Awaited<ReturnType<typeof startHttpPlayer>> | undefined;
  if (o.http) {
    const matcher = new HttpMatcher(o.http.match ?? [], vol);
    http = await startHttpPlayer(loadExchanges(o.tape, httpChannels, matcher), matcher, {
      ...o.http,
      tape: o.tape,
      vol,
      pace: play.pace,
      speed: play.speed,
      onDivergence: play.onDivergence,
      note: play.note,
      onAllServed: () => {
        httpDone = true;
        maybeFinish();
      },
    });
  }
  let reported: Promise<ReplayReport> | undefined;
  /** `interrupted`: stopped from outside (SIGINT) rather than at the end of the recording or a divergence. */
  const stop = (interrupted: boolean) =>
    (reported ??= (async () => {
      // HTTP exchanges need not all be requested (--all-played says otherwise); connections must all be played.
      const unplayed = pendingChannels > 0;
      finish();
      waitForClient.stop();
      await listener?.close();
      await http?.close();
      try {
        if (tapeError) throw tapeError;
        for (const n of unfiredNotes(o.faults ?? [], o.tape)) outcome.note(n);
        const report = outcome.report(scripts, http?.served ?? [], interrupted && unplayed && !outcome.divergences.length ? interruption(scripts.length, pendingChannels) : undefined);
        if (http) report.notes.push(...(await http.commit())); // after the report: it may rewrite the tape
        return report;
      } finally {
        for (const s of scripts) s.close();
      }
    })());
  return { addresses: { ws: listener?.url, http: http?.url }, done: finished.then(() => stop(false)), stop: () => stop(true) };
}

/** Why an interrupted replay is not clean. */
const interruption = (opened: number, pending: number): string =>
  `interrupted ${opened === 0 ? 'before any client connected' : `with ${pending} recorded connection${pending === 1 ? '' : 's'} not played to the end`}`;

/** A one-shot timer that can be armed again. */
function timer(ms: number, fire: () => void): { start(): void; stop(): void } {
  let t: NodeJS.Timeout | undefined;
  return {
    start: () => {
      clearTimeout(t);
      t = setTimeout(fire, ms);
    },
    stop: () => clearTimeout(t),
  };
}
