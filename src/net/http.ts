import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Header pairs from Node's flat rawHeaders list. */
export function headerPairs(raw: (string | Buffer)[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones a proxy must set itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** The headers a proxy passes on, as Node's flat `[name, value, …]` list, in their order and case. */
export function forwardable(pairs: [string, string][]): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) if (!HOP_BY_HOP.has(k.toLowerCase())) out.push(k, v);
  return out;
}

/** Starts `server` listening (loopback by default); resolves with `host:port` as it goes in a URL. */
export async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return `${host.includes(':') ? `[${host}]` : host}:${bound}`;
}
