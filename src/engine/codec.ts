import { Envelope, isVendorType, TRACE_ID, TRACEPARENT } from './schemas/envelope.js';
import { isCoreType, MESSAGE_TYPES, type Message, type MessageType } from './schemas/messages.js';
import { ArcpError } from './errors.js';

/** One frame as it crossed a transport: the exact bytes, nothing re-encoded. */
export interface RawFrame {
  data: Buffer;
  binary: boolean;
}

export type DecodeStage = 'binary' | 'utf8' | 'json' | 'envelope' | 'type' | 'payload';

export type Decoded =
  | {
      ok: true;
      raw: Buffer;
      text: string;
      message: Message;
      vendor: false;
      /** Where the frame differs from the 1.1 draft in a way this tool accepts (wire-notes). */
      notes: string[];
    }
  | { ok: true; raw: Buffer; text: string; message: Envelope; vendor: true; notes: string[] }
  | { ok: false; raw: Buffer; stage: DecodeStage; error: ArcpError; envelope?: Envelope };

const utf8 = new TextDecoder('utf-8', { fatal: true });

const issuesText = (issues: { path: PropertyKey[]; message: string }[], prefix: string): string =>
  issues
    .slice(0, 5)
    .map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');

/** Frame → message, keeping the raw bytes beside the parse. Never throws. */
export function decode(input: RawFrame | Buffer | string): Decoded {
  const frame: RawFrame =
    typeof input === 'string'
      ? { data: Buffer.from(input, 'utf8'), binary: false }
      : Buffer.isBuffer(input)
        ? { data: input, binary: false }
        : input;
  const raw = frame.data;
  const fail = (stage: DecodeStage, message: string, envelope?: Envelope): Decoded => ({
    ok: false,
    raw,
    stage,
    error: new ArcpError('INVALID_REQUEST', message, { stage }),
    envelope,
  });
  if (frame.binary) return fail('binary', `binary frame of ${raw.length} bytes: ARCP frames are JSON text`);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return fail('utf8', 'frame is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail('json', `frame is not JSON: ${(e as Error).message}`);
  }
  const env = Envelope.safeParse(json);
  if (!env.success) return fail('envelope', `invalid envelope: ${issuesText(env.error.issues, 'envelope')}`);
  const envelope = env.data;
  const notes = envelopeNotes(envelope);
  if (isVendorType(envelope.type)) return { ok: true, raw, text, message: json as Envelope, vendor: true, notes };
  if (!isCoreType(envelope.type)) return fail('type', `unknown message type "${envelope.type}"`, envelope);
  const type: MessageType = envelope.type;
  const spec = MESSAGE_TYPES[type];
  const payload = spec.payload.safeParse(envelope.payload);
  if (!payload.success) {
    return fail('payload', `invalid ${type} payload: ${issuesText(payload.error.issues, 'payload')}`, envelope);
  }
  if (spec.form === '1.0') notes.push(`v1.0 form: ${type}`);
  if (type === 'session.hello' && (envelope.payload as { resume?: unknown }).resume !== undefined) {
    notes.push('v1.0 form: resume inside session.hello');
  }
  // The schemas only validate (no defaults, no transforms), so the original parse is kept:
  // zod rebuilds objects with known keys first, which would change the bytes on re-encoding.
  const message = json as Message;
  return { ok: true, raw, text, message, vendor: false, notes };
}

function envelopeNotes(env: Envelope): string[] {
  const notes: string[] = [];
  if (env.trace_id !== undefined && !TRACE_ID.test(env.trace_id)) {
    notes.push(
      TRACEPARENT.test(env.trace_id)
        ? 'trace_id is a full traceparent (draft §11 form; the peer SDK sends 32 hex)'
        : `trace_id "${env.trace_id}" is neither 32 hex nor a traceparent`,
    );
  }
  if (env.arcp !== '1.1') notes.push(`arcp version "${env.arcp}" (expected "1.1")`);
  return notes;
}

/** Message → frame text. Key order is the object's, so a parsed frame re-encodes to its own bytes. */
export function encode(message: Envelope | Message): string {
  return JSON.stringify(message);
}
