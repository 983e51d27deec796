import { InstanceFacts } from './instance-facts.registry';

describe('instance facts', () => {
  it('reads every registered fact at snapshot time', () => {
    const facts = new InstanceFacts();
    let kids = ['k1'];
    facts.register('auth.jwks-kids', () => kids);
    expect(facts.snapshot()).toEqual({ 'auth.jwks-kids': ['k1'] });
    kids = ['k1', 'k2'];
    expect(facts.snapshot()).toEqual({ 'auth.jwks-kids': ['k1', 'k2'] });
  });

  it('tells listeners when a fact is added, said to change or removed', () => {
    const facts = new InstanceFacts();
    const calls: string[] = [];
    const stop = facts.onChange(() => calls.push(Object.keys(facts.snapshot()).join(',')));
    const remove = facts.register('a', () => []);
    facts.changed();
    remove();
    stop();
    facts.register('b', () => []);
    expect(calls).toEqual(['a', 'a', '']);
  });

  it('refuses a second fact of one name, and leaves out a fact whose reader throws', () => {
    const facts = new InstanceFacts();
    facts.register('a', () => ['x']);
    expect(() => facts.register('a', () => [])).toThrow('An instance fact named "a" is already registered');
    facts.register('broken', () => {
      throw new Error('boom');
    });
    expect(facts.snapshot()).toEqual({ a: ['x'] });
  });
});
