/** Feature flags named by the v1.1 draft (§6.2). */
export const FEATURES = [
  'heartbeat',
  'ack',
  'list_jobs',
  'subscribe',
  'lease_expires_at',
  'cost.budget',
  'model.use',
  'provisioned_credentials',
  'progress',
  'result_chunk',
  'agent_versions',
] as const;
export type Feature = (typeof FEATURES)[number];

/** §6.2: the effective set is the intersection, in the runtime's order. Absent lists mean none. */
export function negotiate(client: readonly string[] | undefined, runtime: readonly string[]): Set<string> {
  if (!client) return new Set();
  const wanted = new Set(client);
  return new Set(runtime.filter((f) => wanted.has(f)));
}
