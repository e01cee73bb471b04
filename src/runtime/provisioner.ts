import type { Credential, Lease, LeaseConstraints } from '../engine/schemas/common.js';
import { newId, newToken } from '../engine/ids.js';

/** Mints and revokes per-job credentials (§9.8). */
export interface Provisioner {
  issue(job: { jobId: string; lease: Lease; constraints?: LeaseConstraints }): Credential[];
  revoke(credentialId: string): void;
}

/**
 * A local provisioner: virtual keys kept in memory, constrained to the lease in the
 * draft's §9.8.1 shape. `active` is what an operator would audit for unrevoked keys.
 */
export class LocalProvisioner implements Provisioner {
  readonly active = new Map<string, { jobId: string; value: string }>();
  readonly revoked = new Set<string>();
  constructor(private readonly endpoint = 'http://127.0.0.1:8787/v1') {}
  issue(job: { jobId: string; lease: Lease; constraints?: LeaseConstraints }): Credential[] {
    const id = newId('cred');
    const value = newToken('sk-local', 24);
    this.active.set(id, { jobId: job.jobId, value });
    const constraints: Record<string, unknown> = {};
    if (job.lease['cost.budget']) constraints['cost.budget'] = job.lease['cost.budget'];
    if (job.lease['model.use']) constraints['model.use'] = job.lease['model.use'];
    if (job.constraints?.expires_at) constraints.expires_at = job.constraints.expires_at;
    return [{ id, scheme: 'bearer', value, endpoint: this.endpoint, profile: 'openai', constraints }];
  }
  revoke(credentialId: string): void {
    if (this.active.delete(credentialId)) this.revoked.add(credentialId);
  }
}
