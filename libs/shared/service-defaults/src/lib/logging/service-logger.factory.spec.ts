import { Writable } from 'node:stream';
import { createRootLogger } from './service-logger.factory';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  return { lines, logger: createRootLogger({ level: 'info', service: () => 'test', destination }) };
}

describe('the root logger', () => {
  it('redacts credential headers, and passwords and tokens at the top level, one level down and in request bodies', () => {
    const { lines, logger } = capture();
    logger.info({ password: 'pw-top', refreshToken: 'rt-top', user: { password: 'pw-nested', accessToken: 'at-nested' }, req: { headers: { authorization: 'Bearer at-header' }, body: { token: 'tk-body' } } }, 'login');
    const line = lines.join('');
    for (const secret of ['pw-top', 'rt-top', 'pw-nested', 'at-nested', 'at-header', 'tk-body']) expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({ password: '[redacted]', user: { password: '[redacted]' }, req: { headers: { authorization: '[redacted]' } }, msg: 'login', service: 'test' });
  });
});
