import { PASSWORD_MAX, PASSWORD_MIN, passwordBytes, passwordProblem } from './password-policy';

describe('password policy', () => {
  it.each(['correct horse battery', 'ünïcødé-pässwörd', '🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂', 'x'.repeat(PASSWORD_MAX)])('accepts %j', (password) => {
    expect(passwordProblem(password, 'ada@example.com')).toBeUndefined();
  });

  it.each([
    [null, 'must be a string'],
    ['short', `at least ${PASSWORD_MIN}`],
    ['x'.repeat(PASSWORD_MAX + 1), `at most ${PASSWORD_MAX}`],
    ['          ', 'only spaces'],
    ['abcdefghij\u0007', 'control characters'],
    ['abcdefghij\ud800', 'lone surrogate'],
    ['Ada@Example.com', 'e-mail address'],
  ])('refuses %j, saying it %s', (password, says) => {
    expect(passwordProblem(password, 'ada@example.com')).toContain(says);
  });

  it('counts characters, not UTF-16 units: ten emoji are ten characters', () => {
    expect(passwordProblem('🙂'.repeat(PASSWORD_MIN))).toBeUndefined();
    expect(passwordProblem('🙂'.repeat(PASSWORD_MIN - 1))).toContain('at least');
  });

  it('hashes composed and decomposed accents as the same bytes (NFKC)', () => {
    expect(passwordBytes('caf\u00e9-password')).toEqual(passwordBytes('cafe\u0301-password'));
  });
});
