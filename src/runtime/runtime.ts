import type { IncomingMessage } from 'node:http';
import { decode, type RawFrame } from '../engine/codec.js';
import { ArcpError, toArcpError } from '../engine/errors.js';
import { negotiate } from '../engine/negotiate.js';
import type { Message } from '../engine/schemas/messages.js';
import type { ResumeRequest } from '../engine/schemas/session.js';
import type { Transport } from '../engine/transport/transport.js';
import { listenWebSocket, type WsListener } from '../engine/transport/websocket.js';
import { StdioTransport } from '../engine/transport/stdio.js';
import type { AgentInventory } from '../engine/agent-ref.js';
import type { AgentDefinition } from './agent.js';
import { RuntimeSession } from './session.js';
import { RuntimeJob } from './job.js';
import { DEFAULTS, RUNTIME_FEATURES, type RuntimeOptions } from './options.js';
import { JobHandlers } from './handlers.js';
import { sessionError, type OutMessage, envelope } from './wire.js';

/** The reference ARCP v1.1 runtime (`arcp serve`). */
export class Runtime {
  readonly sessions = new Map<string, RuntimeSession>();
  readonly jobs = new Map<string, RuntimeJob>();
  readonly agents: Map<string, AgentDefinition>;
  readonly inventory: AgentInventory[];
  readonly opts: Required<Omit<RuntimeOptions, 'provisioner' | 'observers' | 'log'>> & RuntimeOptions;
  private readonly handlers: JobHandlers;
  private readonly transports = new Set<Transport>();
  private listeners: WsListener[] = [];

  constructor(options: RuntimeOptions) {
    this.opts = {
      name: 'arcp-reference-runtime',
      version: '0.1.0',
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as Runtime['opts'];
    this.agents = new Map(options.agents.map((a) => [a.name, a]));
    this.inventory = options.agents.map((a) => {
      const versions = a.versions ? Object.keys(a.versions) : [];
      return a.default ? { name: a.name, versions, default: a.default } : { name: a.name, versions };
    });
    this.handlers = new JobHandlers(this);
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  async listen(host = '127.0.0.1', port = 0): Promise<WsListener> {
    const l = await listenWebSocket({ host, port }, (t, req: IncomingMessage) => {
      this.log(`connection from ${req.socket.remoteAddress}:${req.socket.remotePort}`);
      this.attach(t);
    });
    this.listeners.push(l);
    return l;
  }

  serveStdio(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): StdioTransport {
    const t = new StdioTransport(input as never, output as never, undefined, output !== process.stdout);
    this.attach(t);
    return t;
  }

  /** Takes over one transport: hello (or resume) first, then the session's messages. */
  attach(t: Transport): void {
    this.transports.add(t);
    let session: RuntimeSession | undefined;
    const reply = (m: OutMessage) => {
      if (session) session.send(m);
      else t.send(JSON.stringify(envelope(m)));
    };
    t.onClose(() => {
      this.transports.delete(t);
      session?.detach(t);
    });
    t.onFrame((frame: RawFrame) => {
      try {
        const bound = this.onFrame(t, frame, session, reply);
        if (bound) session = bound;
      } catch (e) {
        const err = toArcpError(e);
        this.log(`error handling frame: ${err.message}`);
        reply(sessionError(err, session?.id));
      }
    });
  }

  private onFrame(
    t: Transport,
    frame: RawFrame,
    session: RuntimeSession | undefined,
    reply: (m: OutMessage) => void,
  ): RuntimeSession | undefined {
    if (frame.data.length > this.opts.maxFrameBytes) {
      throw new ArcpError('INVALID_REQUEST', `frame of ${frame.data.length} bytes exceeds the ${this.opts.maxFrameBytes}-byte limit`);
    }
    const d = decode(frame);
    if (!d.ok) throw d.error;
    try {
      return this.onMessage(t, d, session, reply);
    } catch (e) {
      // Name the offending message so a client can tell which request failed.
      const err = toArcpError(e);
      throw new ArcpError(err.code, err.message, { ...err.details, request_id: d.message.id }, err.retryable);
    }
  }

  private onMessage(
    t: Transport,
    d: Extract<ReturnType<typeof decode>, { ok: true }>,
    session: RuntimeSession | undefined,
    reply: (m: OutMessage) => void,
  ): RuntimeSession | undefined {
    const msg = d.message;
    if (!/^1(\.\d+)?$/.test(msg.arcp)) {
      throw new ArcpError('INVALID_REQUEST', `unsupported protocol version "${msg.arcp}"`, { arcp: msg.arcp });
    }
    if (d.vendor) {
      // Optional vendor messages are dropped; a required one we cannot honour is refused.
      if (msg.extensions?.optional === true) return undefined;
      throw new ArcpError('INVALID_REQUEST', `unsupported vendor message "${msg.type}"`, { type: msg.type });
    }
    const m = d.message as Message;
    if (!session) {
      if (m.type === 'session.hello') return this.hello(t, m as Message<'session.hello'>, reply);
      if (m.type === 'session.resume') return this.resumeMessage(t, m as Message<'session.resume'>, reply);
      throw new ArcpError('INVALID_REQUEST', `expected session.hello before "${m.type}"`);
    }
    if (m.session_id !== undefined && m.session_id !== session.id) {
      throw new ArcpError('INVALID_REQUEST', `session_id "${m.session_id}" does not name this session`);
    }
    if (!session.firstSighting(m.id)) return undefined;
    this.handlers.dispatch(session, t, m);
    return undefined;
  }

  private authenticate(token: string | undefined): string {
    const principal = token === undefined ? undefined : this.opts.tokens.get(token);
    if (principal === undefined) {
      throw new ArcpError('UNAUTHENTICATED', token === undefined ? 'Missing bearer token' : 'Unknown bearer token');
    }
    return principal;
  }

  private hello(t: Transport, m: Message<'session.hello'>, reply: (m: OutMessage) => void): RuntimeSession | undefined {
    const p = m.payload;
    let principal: string;
    try {
      principal = this.authenticate(p.auth?.token);
    } catch (e) {
      reply(sessionError(e as ArcpError));
      t.close(1008, 'unauthenticated');
      return undefined;
    }
    if (p.resume) return this.resume(t, p.resume, principal, reply);
    const clientFeatures = p.capabilities?.features;
    const features = negotiate(clientFeatures, RUNTIME_FEATURES);
    const session = new RuntimeSession(
      principal,
      features,
      {
        heartbeatIntervalSec: this.opts.heartbeatIntervalSec,
        resumeWindowSec: this.opts.resumeWindowSec,
        backPressureLag: this.opts.backPressureLag,
        maxBuffered: this.opts.maxBuffered,
      },
      (s) => this.sessions.delete(s.id),
      (s, jobId, lag) => this.jobs.get(jobId)?.emit('status', {
        phase: 'back_pressure',
        message: `event_seq lag ${lag} exceeds threshold ${s.limits.backPressureLag}`,
      }),
    );
    this.sessions.set(session.id, session);
    session.attach(t);
    session.send({ type: 'session.welcome', payload: this.welcomePayload(session, clientFeatures !== undefined) });
    this.log(`session ${session.id} opened for ${principal}`);
    return session;
  }

  private welcomePayload(session: RuntimeSession, advertiseFeatures: boolean): Record<string, unknown> {
    const payload: Record<string, unknown> = {
      runtime: { name: this.opts.name, version: this.opts.version },
      resume_token: session.resumeToken,
      resume_window_sec: this.opts.resumeWindowSec,
    };
    if (advertiseFeatures && session.has('heartbeat')) payload.heartbeat_interval_sec = this.opts.heartbeatIntervalSec;
    const capabilities: Record<string, unknown> = { encodings: ['json'] };
    if (advertiseFeatures) capabilities.features = [...session.features];
    capabilities.agents = this.inventory;
    payload.capabilities = capabilities;
    return payload;
  }

  private resumeMessage(t: Transport, m: Message<'session.resume'>, reply: (m: OutMessage) => void): RuntimeSession | undefined {
    let principal: string | undefined;
    if (m.payload.auth) {
      try {
        principal = this.authenticate(m.payload.auth.token);
      } catch (e) {
        reply(sessionError(e as ArcpError));
        t.close(1008, 'unauthenticated');
        return undefined;
      }
    }
    return this.resume(t, m.payload, principal, reply);
  }

  /** §6.3: same session_id, rotated token, then every buffered frame after `last_event_seq`. */
  private resume(
    t: Transport,
    r: ResumeRequest,
    principal: string | undefined,
    reply: (m: OutMessage) => void,
  ): RuntimeSession | undefined {
    const session = this.sessions.get(r.session_id);
    const refuse = (message: string) => {
      reply(sessionError(new ArcpError('RESUME_WINDOW_EXPIRED', message), r.session_id));
      t.close(1000, 'resume refused');
      return undefined;
    };
    if (!session || session.machine.is('closed') || session.resumeToken !== r.resume_token) {
      return refuse('Invalid or unknown resume_token');
    }
    if (principal !== undefined && principal !== session.principal) return refuse('resume_token belongs to another principal');
    const frames = session.replayAfter(r.last_event_seq);
    if (!frames) return refuse(`buffer no longer covers last_event_seq ${r.last_event_seq}`);
    session.attach(t);
    session.rotateToken();
    session.send({ type: 'session.welcome', payload: this.welcomePayload(session, true) });
    for (const f of frames) session.writeRaw(f);
    this.log(`session ${session.id} resumed after seq ${r.last_event_seq} (${frames.length} replayed)`);
    return session;
  }

  async close(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    for (const s of this.sessions.values()) s.shutdown();
    for (const t of this.transports) t.close(1001, 'runtime shutting down');
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners = [];
  }
}
