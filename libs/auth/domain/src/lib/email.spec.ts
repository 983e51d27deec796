import { emailProblem, normalizeEmail } from './email';

describe('e-mail addresses', () => {
  it.each(['ada@example.com', ' Ada.Lovelace+zdm@Example.CO.uk ', "o'brien@mail.example.org", 'a@b.io'])('accepts %j', (email) => {
    expect(emailProblem(email)).toBeUndefined();
  });

  it.each([
    [42, 'must be a string'],
    ['', 'like name@example.com'],
    ['ada', 'like name@example.com'],
    ['@example.com', 'like name@example.com'],
    ['ada@', 'like name@example.com'],
    ['ada@localhost', 'domain name'],
    ['a..b@example.com', 'domain name'],
    ['ada@exa_mple.com', 'domain name'],
    ['ada lovelace@example.com', 'domain name'],
    ['ada@example.com\u0000', 'domain name'],
    [`${'a'.repeat(65)}@example.com`, 'at most 64'],
    [`a@${'b'.repeat(250)}.com`, 'at most 254'],
  ])('refuses %j, saying it %s', (email, says) => {
    expect(emailProblem(email)).toContain(says);
  });

  it('normalizes case and surrounding spaces so one address is one account', () => {
    expect(normalizeEmail(' Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeEmail('ada@example.com')).toBe(normalizeEmail('ADA@EXAMPLE.COM'));
  });
});
