import type { Doc } from '@zdm/migrations-core';

/** The customer as a v3 order keeps it: the full name, as the customers API gives it (API 1.1). */
export interface CustomerNameSnapshot {
  fullName: string;
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** firstName and lastName joined by one space; the one non-empty part alone (as the customers service joins them). */
export function joinName(firstName: string, lastName: string): string {
  return !lastName ? firstName : !firstName ? lastName : `${firstName} ${lastName}`;
}

/** The name parts of a full name, split at its last space (as the customers service splits a fullName it is given). */
export function splitName(fullName: string): { firstName: string; lastName: string } {
  const at = fullName.lastIndexOf(' ');
  return at < 0 ? { firstName: fullName, lastName: '' } : { firstName: fullName.slice(0, at), lastName: fullName.slice(at + 1) };
}

/** The v1/v2 snapshot `{ firstName, lastName }` of a document, or null when it is not one. */
export function oldSnapshot(doc: Doc): { firstName: string; lastName: string } | null {
  const customer = doc['customer'] as Doc | undefined;
  return customer && isText(customer['firstName']) && isText(customer['lastName']) ? { firstName: customer['firstName'], lastName: customer['lastName'] } : null;
}

/** Why the v3 snapshot of `doc` is not well-formed, or undefined when it is. */
export function newSnapshotProblem(doc: Doc): string | undefined {
  const snapshot = doc['customerSnapshot'] as Doc | undefined;
  if (!snapshot || typeof snapshot !== 'object' || Array.isArray(snapshot)) return `customerSnapshot must be { fullName }, got ${JSON.stringify(snapshot) ?? 'nothing'}`;
  if (!isText(snapshot['fullName']) || !snapshot['fullName'].trim() || Object.keys(snapshot).length !== 1) return `customerSnapshot must be { fullName } with a non-empty fullName, got ${JSON.stringify(snapshot)}`;
  return undefined;
}
