import * as credentials from './credentials.js';
import * as events from './events.js';
import * as heartbeat from './heartbeat.js';
import * as jobs from './jobs.js';
import * as leases from './leases.js';
import * as listing from './listing.js';
import * as resume from './resume.js';
import * as session from './session.js';
import * as subscribe from './subscribe.js';
import type { Check } from './util.js';

/** Every server check, in the order `conform list` shows them (by area, roughly by §). */
export const SERVER_CHECKS: Check[] = [session, heartbeat, resume, listing, jobs, subscribe, events, leases, credentials].flatMap((m) =>
  Object.values(m as Record<string, unknown>).filter((v): v is Check => Boolean(v) && typeof v === 'object' && (v as Check).kind === 'server'),
);
