import { ToolError } from '../errors.js';
import type { HeaderPairs } from '../tape/format.js';
import { PLACEHOLDER } from '../tape/redact.js';
import { parsePointer } from '../json/pointer.js';
import type { Volatility } from './volatile.js';
import { canonicalJson, child, pathOf, type PathNode } from './walk.js';

/**
 * What is compared when a live request is matched to a recorded one, per route. This is apart
 * from what is stored (the tape keeps every header and byte, as undici's SnapshotRecorder keeps
 * matching options apart from storage): a rule here changes which recorded exchange answers,
 * never what it answers with. The defaults are method, path (with its query) and the canonical
 * body (decoded, JSON with sorted keys, volatile fields removed).
 */
export interface RouteMatch {
  /** The route prefix it applies to (`/` for every route); the longest one wins. */
  prefix: string;
  /** Request headers whose values must be equal (lower case). None by default. */
  headers: string[];
  /** Query parameters left out of the comparison; `*` leaves out the whole query. */
  ignoreQuery: string[];
  /** JSON pointers (with `*`) into the request body whose values may differ. */
  volatile: string[][];
  /** The recorded JSON body need only be contained in the live one: extra live fields are fine (WireMock's ignoreExtraElements). */
  partial: boolean;
}

const USAGE = 'e.g. --http-match "/openai:header=openai-organization,ignore-query=api-version,volatile=/user,partial"';

/** `[PREFIX:]RULE[,RULE…]` with rules `header=NAME`, `ignore-query=NAME|*`, `volatile=/POINTER`, `partial`. */
export function parseRouteMatch(spec: string): RouteMatch {
  const colon = spec.startsWith('/') ? spec.indexOf(':') : -1;
  const prefix = colon > 0 ? spec.slice(0, colon).replace(/\/+$/, '') || '/' : '/';
  const m: RouteMatch = { prefix, headers: [], ignoreQuery: [], volatile: [], partial: false };
  for (const rule of (colon > 0 ? spec.slice(colon + 1) : spec).split(',').map((r) => r.trim()).filter(Boolean)) {
    const eq = rule.indexOf('=');
    const [name, value] = eq > 0 ? [rule.slice(0, eq), rule.slice(eq + 1)] : [rule, ''];
    if (name === 'partial' && !value) m.partial = true;
    else if (name === 'header' && value) m.headers.push(value.toLowerCase());
    else if (name === 'ignore-query' && value) m.ignoreQuery.push(value);
    else if (name === 'volatile' && value) {
      try {
        m.volatile.push(parsePointer(value));
      } catch (e) {
        throw new ToolError('E_USAGE', `--http-match "${spec}": ${(e as Error).message}`, USAGE);
      }
    } else throw new ToolError('E_USAGE', `--http-match "${spec}": "${rule}" is not header=NAME, ignore-query=NAME, volatile=/POINTER or partial`, USAGE);
  }
  return m;
}

/** A request as the matcher sees it. */
export interface MatchRequest {
  method: string;
  path: string;
  headers: HeaderPairs;
  /** The body decoded from its content codings. */
  body: Buffer;
}

/** A recorded request made ready for matching once: its route's rules, normalised path, picked headers, canonical body. */
export interface MatchKey {
  rules: RouteMatch;
  method: string;
  path: (live: string) => boolean;
  headers: string;
  /** The canonical body text, and the parsed JSON for partial matching. */
  body: string;
  json?: unknown;
}

const NO_RULES: RouteMatch = { prefix: '/', headers: [], ignoreQuery: [], volatile: [], partial: false };

export class HttpMatcher {
  constructor(
    private readonly routes: RouteMatch[],
    private readonly vol: Volatility,
  ) {}

  /** The rules for a request path (live) or a recorded exchange's route prefix. */
  rulesFor(path: string, route?: string): RouteMatch {
    let best: RouteMatch | undefined;
    for (const r of this.routes) {
      const hit = route !== undefined ? r.prefix === '/' || route === r.prefix || route.startsWith(r.prefix + '/') : r.prefix === '/' || path === r.prefix || path.startsWith(r.prefix + '/') || path.startsWith(r.prefix + '?');
      if (hit && (!best || r.prefix.length > best.prefix.length)) best = r;
    }
    return best ?? NO_RULES;
  }

  /** A recorded request, prepared. */
  key(r: MatchRequest, route?: string): MatchKey {
    const rules = this.rulesFor(r.path, route);
    const parsed = parseJson(r.body);
    return {
      rules,
      method: r.method,
      path: pathMatcher(normalPath(r.path, rules)),
      headers: pickHeaders(r.headers, rules),
      body: parsed === undefined ? r.body.toString('utf8') : canonicalJson(parsed, skipper(this.vol, rules)),
      json: parsed === undefined || !rules.partial ? parsed : strip(parsed, skipper(this.vol, rules)),
    };
  }

  /** Whether a live request is the recorded one, by the recorded one's route rules. */
  matches(k: MatchKey, live: MatchRequest): boolean {
    if (k.method !== live.method || !k.path(normalPath(live.path, k.rules)) || k.headers !== pickHeaders(live.headers, k.rules)) return false;
    const parsed = parseJson(live.body);
    if (parsed === undefined) return k.json === undefined && k.body === live.body.toString('utf8');
    if (k.json === undefined) return false;
    const skip = skipper(this.vol, k.rules);
    return k.rules.partial ? contains(k.json, strip(parsed, skip)) : k.body === canonicalJson(parsed, skip);
  }
}

function parseJson(body: Buffer): unknown {
  if (!body.length) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The path with ignored query parameters left out. */
function normalPath(path: string, rules: RouteMatch): string {
  if (!rules.ignoreQuery.length) return path;
  const q = path.indexOf('?');
  if (q < 0) return path;
  if (rules.ignoreQuery.includes('*')) return path.slice(0, q);
  const kept = path
    .slice(q + 1)
    .split('&')
    .filter((p) => !rules.ignoreQuery.includes(decodeURIComponentSafe(p.split('=')[0])));
  return kept.length ? `${path.slice(0, q)}?${kept.join('&')}` : path.slice(0, q);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const pickHeaders = (headers: HeaderPairs, rules: RouteMatch): string =>
  rules.headers.length ? rules.headers.map((h) => `${h}: ${headers.filter(([k]) => k.toLowerCase() === h).map(([, v]) => v).join(', ')}`).join('\n') : '';

const PLACEHOLDERS = new RegExp(PLACEHOLDER.source, 'g');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A recorded path's redacted parts (`?api_key=[arcp-redacted:1]`) match whatever the live request has there. */
function pathMatcher(recorded: string): (live: string) => boolean {
  if (!PLACEHOLDER.test(recorded)) return (live) => live === recorded;
  const re = new RegExp(`^${recorded.split(PLACEHOLDERS).map(escapeRe).join('.*?')}$`, 's');
  return (live) => re.test(live);
}

/**
 * Whether a field is left out of matching: volatile by the preset or --volatile, or by the route's
 * pointers. Containers deeper than any pointer cannot be, so no path is built for them.
 */
function skipper(vol: Volatility, rules: RouteMatch): (at: PathNode, x: unknown) => boolean {
  const deepest = Math.max(vol.deepestPointer, ...rules.volatile.map((t) => t.length));
  return (at, x) => {
    if (x !== null && typeof x === 'object' && at.depth > deepest) return false;
    const path = pathOf(at);
    return vol.treat(path, x) !== undefined || rules.volatile.some((t) => t.length === path.length && t.every((s, i) => s === '*' || s === path[i]));
  };
}

/** A copy of `v` with the skipped fields left out (for partial matching), built without recursion. */
function strip(v: unknown, skip: (at: PathNode, x: unknown) => boolean): unknown {
  const root: { v?: unknown } = {};
  const stack: { x: unknown; at?: PathNode; put: (y: unknown) => void }[] = [{ x: v, put: (y) => (root.v = y) }];
  while (stack.length) {
    const { x, at, put } = stack.pop()!;
    if (Array.isArray(x)) {
      const out: unknown[] = new Array(x.length);
      put(out);
      x.forEach((y, i) => stack.push({ x: y, at: child(at, String(i)), put: (z) => (out[i] = z) }));
    } else if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      put(out);
      for (const k of Object.keys(x).sort()) {
        const y = (x as Record<string, unknown>)[k];
        const node = child(at, k);
        if (!skip(node, y)) stack.push({ x: y, at: node, put: (z) => (out[k] = z) });
      }
    } else put(x);
  }
  return root.v;
}

/** Whether every field of `rec` is in `live` with an equal value (arrays element by element, same length). */
function contains(rec: unknown, live: unknown): boolean {
  const stack: [unknown, unknown][] = [[rec, live]];
  while (stack.length) {
    const [r, l] = stack.pop()!;
    if (Array.isArray(r)) {
      if (!Array.isArray(l) || l.length !== r.length) return false;
      r.forEach((x, i) => stack.push([x, l[i]]));
    } else if (r && typeof r === 'object') {
      if (!l || typeof l !== 'object' || Array.isArray(l)) return false;
      for (const [k, x] of Object.entries(r)) {
        if (!Object.hasOwn(l, k)) return false;
        stack.push([x, (l as Record<string, unknown>)[k]]);
      }
    } else if (r !== l) return false;
  }
  return true;
}
