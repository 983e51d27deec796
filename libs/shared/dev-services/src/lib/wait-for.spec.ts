import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first truthy value of the probe, counting thrown errors as not yet', async () => {
    let calls = 0;
    const value = await waitFor('the third call', () => {
      calls++;
      if (calls === 1) throw new Error('not ready');
      return calls === 3 ? { calls } : null;
    }, 1_000, 1);
    expect(value).toEqual({ calls: 3 });
  });

  it('fails after the timeout, naming what it waited for and the last value or error it saw', async () => {
    await expect(waitFor('a value', () => 0, 30, 5)).rejects.toThrow('timed out after 30 ms waiting for a value (last value: 0)');
    await expect(waitFor('an answer', () => Promise.reject(new Error('ECONNREFUSED')), 30, 5)).rejects.toThrow('timed out after 30 ms waiting for an answer (last error: ECONNREFUSED)');
  });
});
