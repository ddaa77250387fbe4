/**
 * @module registry/model-status
 * A version's status and its lineage.
 *
 * Status: registered → approved | deprecated | revoked. Approved and deprecated may be swapped
 * (a deprecation can be taken back); revoked is final — a revoked version was judged unfit to
 * run anywhere, so it is removed from every device (deploy/deployments.ts) and can never be
 * assigned again. To run that artifact again, re-release it as a new version knowingly.
 * Deprecated versions stay assignable: they are discouraged, not dangerous.
 */
import type { LineageResponse, ModelStatus, StatusChange } from '@edgeloop/protocol';
import type { ModelVersionRepository } from '../store/fleet-store.js';
import { RegistryError, type ModelVersionRow } from './model-registry.js';

export function canChangeStatus(from: ModelStatus, to: ModelStatus): boolean {
  if (from === 'revoked') return false;
  return to !== 'registered';
}

/** Applies a status change; returns the updated row and whether anything changed. */
export async function changeStatus(
  store: ModelVersionRepository,
  name: string,
  version: number,
  change: StatusChange,
  now = Date.now(),
): Promise<{ row: ModelVersionRow; previous: ModelStatus; changed: boolean }> {
  const row = await store.get(name, version);
  if (!row) throw new RegistryError(404, `no model ${name} v${version}; see edgeloop models list`);
  if (row.status === change.status) return { row, previous: row.status, changed: false };
  if (!canChangeStatus(row.status, change.status)) {
    throw new RegistryError(
      409,
      `${name} v${version} is revoked, which is final; re-release its artifact as a new version if it is needed again`,
    );
  }
  await store.setStatus(name, version, change.status, change.reason ?? null, now);
  return { row: (await store.get(name, version))!, previous: row.status, changed: true };
}

/** Why a version may not be assigned, or undefined when it may. */
export function assignmentBlocker(row: ModelVersionRow): string | undefined {
  if (row.status !== 'revoked') return undefined;
  return `${row.name} v${row.version} is revoked${row.statusReason ? ` (${row.statusReason})` : ''} and cannot be assigned; deploy another version`;
}

export async function lineageOf(store: ModelVersionRepository, name: string): Promise<LineageResponse> {
  const versions = await store.versionsOf(name);
  if (versions.length === 0)
    throw new RegistryError(404, `no model named "${name}" is registered; see edgeloop models list`);
  return {
    name,
    versions: versions.map((v) => ({
      version: v.version,
      sha256: v.sha256,
      createdAt: v.createdAt,
      status: v.status,
      lineage: v.lineage,
    })),
  };
}

/** The version and its ancestors through `lineage.parent`, newest first (cycles cannot occur: parents are older). */
export async function ancestry(
  store: ModelVersionRepository,
  name: string,
  version: number,
): Promise<ModelVersionRow[]> {
  const chain: ModelVersionRow[] = [];
  let next: number | undefined = version;
  while (next !== undefined && chain.length < 1000) {
    const row = await store.get(name, next);
    if (!row) break;
    chain.push(row);
    next = row.lineage.parent !== undefined && row.lineage.parent < row.version ? row.lineage.parent : undefined;
  }
  return chain;
}
