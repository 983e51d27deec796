import { decideRefresh, sessionRecordProblem, startSession, USED_TOKENS_KEPT } from './refresh-family';
import { hashRefreshToken, isSessionId, newRefreshToken, newSessionId, refreshTokenSession } from './tokens';

describe('refresh-token families', () => {
  it('rotates the current token: the next one becomes current and this one is remembered as used', () => {
    const session = startSession('u1', 'h0', 1_000);
    const decision = decideRefresh(session, 'h0', 'h1', 2_000);
    expect(decision).toEqual({ kind: 'rotate', next: { userId: 'u1', refreshHash: 'h1', usedHashes: ['h0'], generation: 1, createdAt: 1_000, refreshedAt: 2_000 } });
  });

  it('calls any earlier token of the family a reuse, however many rotations ago', () => {
    let session = startSession('u1', 'h0', 0);
    for (let i = 1; i <= 5; i++) {
      const decision = decideRefresh(session, `h${i - 1}`, `h${i}`, i);
      if (decision.kind !== 'rotate') throw new Error('expected a rotation');
      session = decision.next;
    }
    expect(decideRefresh(session, 'h0', 'x', 9)).toEqual({ kind: 'reuse' });
    expect(decideRefresh(session, 'h4', 'x', 9)).toEqual({ kind: 'reuse' });
  });

  it('calls a token the family never issued unknown, so a guess cannot revoke the family', () => {
    expect(decideRefresh(startSession('u1', 'h0', 0), 'guess', 'h1', 1)).toEqual({ kind: 'unknown' });
  });

  it(`keeps the last ${USED_TOKENS_KEPT} used tokens`, () => {
    const session = { ...startSession('u1', 'current', 0), usedHashes: Array.from({ length: USED_TOKENS_KEPT }, (_, i) => `u${i}`) };
    const decision = decideRefresh(session, 'current', 'next', 1);
    expect(decision.kind === 'rotate' && decision.next.usedHashes.length).toBe(USED_TOKENS_KEPT);
    expect(decision.kind === 'rotate' && decision.next.usedHashes.at(-1)).toBe('current');
  });

  it('names what is wrong with a malformed stored record', () => {
    expect(sessionRecordProblem(startSession('u1', 'h', 0))).toBeUndefined();
    expect(sessionRecordProblem('x')).toBe('not an object');
    expect(sessionRecordProblem({ ...startSession('u1', 'h', 0), usedHashes: [1] })).toBe('usedHashes must be a list of strings');
    expect(sessionRecordProblem({ ...startSession('u1', 'h', 0), generation: 'one' })).toBe('generation must be a number');
  });
});

describe('refresh tokens', () => {
  it('carry their session id, and are stored only as a SHA-256', () => {
    const sid = newSessionId();
    expect(isSessionId(sid)).toBe(true);
    const token = newRefreshToken(sid);
    expect(refreshTokenSession(token)).toBe(sid);
    expect(hashRefreshToken(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashRefreshToken(token)).not.toContain(token.split('.')[1]);
  });

  it.each([undefined, 42, '', 'abc.def', `${'a'.repeat(22)}.${'b'.repeat(42)}`, `${'a'.repeat(22)}.${'b'.repeat(43)}x`])('finds no session in %j', (token) => {
    expect(refreshTokenSession(token)).toBeUndefined();
  });
});
