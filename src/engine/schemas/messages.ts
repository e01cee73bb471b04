import { z } from 'zod';
import * as S from './session.js';
import * as J from './job.js';

/**
 * Every core message type and its payload schema. `form` names where the type comes from:
 * `1.1` the v1.1 draft, `1.0` the v1.0 forms the reference SDK still sends (wire-notes).
 */
export const MESSAGE_TYPES = {
  'session.hello': { payload: S.HelloPayload, dir: 'c2s', form: '1.1' },
  'session.welcome': { payload: S.WelcomePayload, dir: 's2c', form: '1.1' },
  'session.resume': { payload: S.ResumePayload, dir: 'c2s', form: '1.1' },
  'session.ping': { payload: S.PingPayload, dir: 'both', form: '1.1' },
  'session.pong': { payload: S.PongPayload, dir: 'both', form: '1.1' },
  'session.ack': { payload: S.AckPayload, dir: 'c2s', form: '1.1' },
  'session.list_jobs': { payload: S.ListJobsPayload, dir: 'c2s', form: '1.1' },
  'session.jobs': { payload: S.JobsPayload, dir: 's2c', form: '1.1' },
  'session.close': { payload: S.ClosePayload, dir: 'c2s', form: '1.1' },
  'session.closed': { payload: S.ClosedPayload, dir: 's2c', form: '1.1' },
  'session.bye': { payload: S.ByePayload, dir: 'both', form: '1.0' },
  'session.error': { payload: S.SessionErrorPayload, dir: 's2c', form: '1.0' },
  'job.submit': { payload: J.SubmitPayload, dir: 'c2s', form: '1.1' },
  'job.accepted': { payload: J.AcceptedPayload, dir: 's2c', form: '1.1' },
  'job.event': { payload: J.EventPayload, dir: 's2c', form: '1.1' },
  'job.result': { payload: J.ResultPayload, dir: 's2c', form: '1.1' },
  'job.error': { payload: J.JobErrorPayload, dir: 's2c', form: '1.1' },
  'job.cancel': { payload: J.CancelPayload, dir: 'c2s', form: '1.1' },
  'job.cancelled': { payload: J.CancelledPayload, dir: 's2c', form: '1.1' },
  'job.subscribe': { payload: J.SubscribePayload, dir: 'c2s', form: '1.1' },
  'job.subscribed': { payload: J.SubscribedPayload, dir: 's2c', form: '1.1' },
  'job.unsubscribe': { payload: J.UnsubscribePayload, dir: 'c2s', form: '1.1' },
} as const;

export type MessageType = keyof typeof MESSAGE_TYPES;
export const isCoreType = (t: string): t is MessageType => Object.prototype.hasOwnProperty.call(MESSAGE_TYPES, t);

type PayloadOf<T extends MessageType> = z.infer<(typeof MESSAGE_TYPES)[T]['payload']>;

/** Envelope fields other than `type` and `payload`, written out: zod's loose index signature defeats `Omit`. */
export interface EnvelopeFields {
  arcp: string;
  id: string;
  session_id?: string;
  trace_id?: string;
  job_id?: string;
  event_seq?: number;
  extensions?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** A parsed message: the envelope with its payload typed by `type`. */
export type Message<T extends MessageType = MessageType> = T extends MessageType
  ? EnvelopeFields & { type: T; payload: PayloadOf<T> }
  : never;

