/**
 * A session is one refresh-token family: the login issues its first refresh token, and each
 * refresh replaces the current token with a new one. Tokens of the family that were already
 * rotated out are remembered (hashed), so that presenting one again, which only a thief or a
 * replaying client can do, is told apart from a token that was never issued.
 */
export interface SessionRecord {
  /** The user the session belongs to. */
  userId: string;
  /** SHA-256 (base64url) of the one refresh token that may be used next. */
  refreshHash: string;
  /** SHA-256 of every earlier token of the family, newest last (at most {@link USED_TOKENS_KEPT}). */
  usedHashes: string[];
  /** How many refreshes the family has had. */
  generation: number;
  /** When the session began (the login), epoch ms. */
  createdAt: number;
  /** When the current refresh token was issued, epoch ms. */
  refreshedAt: number;
}

/** How many rotated-out token hashes a session keeps; enough for years of refreshes every few minutes within one TTL. */
export const USED_TOKENS_KEPT = 1_000;

/** What presenting a refresh token to a session means. */
export type RefreshDecision =
  /** The current token: rotate (issue the next one, remember this one as used). */
  | { kind: 'rotate'; next: SessionRecord }
  /** A token the family already used: it was stolen or replayed; revoke the whole family. */
  | { kind: 'reuse' }
  /** Not a token of this family: refuse, and leave the family alone (a guess must not log anyone out). */
  | { kind: 'unknown' };

/** A new session for `userId` whose current refresh token hashes to `refreshHash`. */
export function startSession(userId: string, refreshHash: string, now: number): SessionRecord {
  return { userId, refreshHash, usedHashes: [], generation: 0, createdAt: now, refreshedAt: now };
}

/** The rule of refresh-token rotation with reuse detection (OAuth 2.0 Security BCP, section 4.14). */
export function decideRefresh(session: SessionRecord, presentedHash: string, nextHash: string, now: number): RefreshDecision {
  if (presentedHash === session.refreshHash) {
    const usedHashes = [...session.usedHashes, presentedHash].slice(-USED_TOKENS_KEPT);
    return { kind: 'rotate', next: { ...session, refreshHash: nextHash, usedHashes, generation: session.generation + 1, refreshedAt: now } };
  }
  if (session.usedHashes.includes(presentedHash)) return { kind: 'reuse' };
  return { kind: 'unknown' };
}

/** Why `value` is not a stored session record, or undefined (a malformed record is reported, never trusted). */
export function sessionRecordProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  if (typeof record['userId'] !== 'string') return 'userId must be a string';
  if (typeof record['refreshHash'] !== 'string') return 'refreshHash must be a string';
  if (!Array.isArray(record['usedHashes']) || !record['usedHashes'].every((h) => typeof h === 'string')) return 'usedHashes must be a list of strings';
  for (const field of ['generation', 'createdAt', 'refreshedAt']) {
    if (typeof record[field] !== 'number' || !Number.isFinite(record[field])) return `${field} must be a number`;
  }
  return undefined;
}
