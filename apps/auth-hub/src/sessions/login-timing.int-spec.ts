import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices } from '@zdm/dev-services';
import request from 'supertest';
import { authHubEnv, startAuthHubApp } from '../testing/auth-hub-app.fixture';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'redis']);

/** Pairs of logins (unknown address, wrong password), interleaved so that machine load hits both alike. */
const PAIRS = 60;
/** The production cost (2^15, 32 MiB): the KDF dominates a login, as it does in production. */
const LOG_N = '15';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

describe('login timing: an unknown address and a wrong password take about the same time', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    app = await startAuthHubApp(
      authHubEnv(services, {
        SCRYPT_LOG_N: LOG_N,
        LOGIN_ATTEMPTS_PER_ACCOUNT: '100000',
        LOGIN_ATTEMPTS_PER_IP: '100000',
      }),
    );
    http = request(app.getHttpServer());
    await http.post('/users').send({ email: 'timed@example.com', password: 'correct horse battery' }).expect(201);
  });
  afterAll(() => app?.close());

  it(`answers both with the same 401, and their median times differ by less than 20% (${PAIRS} pairs, scrypt 2^${LOG_N})`, async () => {
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      await http.post('/sessions').send({ email, password: 'wrong password!' }).expect(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which goes first, so neither always meets a warmer cache.
      if (i % 2 === 0) {
        unknown.push(await time(`nobody-${i}@example.com`));
        wrong.push(await time('timed@example.com'));
      } else {
        wrong.push(await time('timed@example.com'));
        unknown.push(await time(`nobody-${i}@example.com`));
      }
    }
    const [mu, mw] = [median(unknown), median(wrong)];
    const ratio = mu / mw;
    console.info(
      `[auth-hub timing] ${PAIRS} pairs at scrypt 2^${LOG_N}: median unknown address ${mu.toFixed(1)} ms, wrong password ${mw.toFixed(1)} ms ` +
        `(ratio ${ratio.toFixed(3)}, difference ${(mu - mw).toFixed(1)} ms); p10-p90 unknown ${percentiles(unknown)}, wrong ${percentiles(wrong)}`,
    );
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
  });
});

function percentiles(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return `${at(0.1)}-${at(0.9)} ms`;
}
