/**
 * @module deploy/assigned-versions
 * Version-centred questions about assignments, serving and shadow alike: which versions are on
 * some device, which devices a version is on, dropping a version everywhere (revocation).
 */
import type { FleetStore } from '../store/fleet-store.js';

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();

/** Every (model, version) assigned to at least one device, in any role. */
export async function assignedVersions(store: FleetStore): Promise<Array<{ name: string; version: number }>> {
  const seen = new Map<string, { name: string; version: number }>();
  for (const v of [...(await store.assignments.versions()), ...(await store.shadows.versions())])
    seen.set(`${v.name}\u0000${v.version}`, v);
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version));
}

/** Devices this version is assigned to (any role), sorted. */
export async function devicesWithVersion(store: FleetStore, name: string, version: number): Promise<string[]> {
  return union(await store.assignments.devicesWith(name, version), await store.shadows.devicesWith(name, version));
}

/** Every device with any assignment (their desired states carry the keyset). */
export async function devicesWithAssignments(store: FleetStore): Promise<string[]> {
  return union(await store.assignments.devices(), await store.shadows.devices());
}

/** Drops this version from every device, serving and shadow; returns the devices it was on. */
export function removeVersionEverywhere(store: FleetStore, name: string, version: number): Promise<string[]> {
  return store.transaction(async (tx) =>
    union(await tx.assignments.removeVersion(name, version), await tx.shadows.removeVersion(name, version)),
  );
}
