import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP, DEFAULT_AUDIENCE, DEFAULT_ISSUER } from './access-token';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';

/** What a test asks of a token: its user, session and lifetime. */
export interface TestTokenClaims {
  /** The user id. Default `test-user`. */
  sub?: string;
  /** The session id. Default `test-session`. */
  sid?: string;
  /** Seconds until it expires; a negative number gives a token that has expired already. Default 3,600. */
  expiresInSeconds?: number;
  /** The audience. Default the one services expect. */
  audience?: string;
}

/** A stand-in for the auth hub's signing side, for suites whose subject is not the auth hub itself. */
export interface TestTokenIssuer {
  /** Where its public key is published, as the auth hub publishes its own: the services' AUTH_JWKS_URL. */
  jwksUrl: string;
  /** An access token in the auth hub's format (EdDSA, typ at+jwt, kid, iss, aud, sub, sid, jti, iat, exp). */
  token(claims?: TestTokenClaims): Promise<string>;
  /** `Bearer <token>`, the value of an Authorization header. */
  bearer(claims?: TestTokenClaims): Promise<string>;
  close(): Promise<void>;
}

/**
 * Serves an Ed25519 public key at `http://127.0.0.1:<port>/.well-known/jwks.json` and signs access
 * tokens with its private key, as the auth hub does. Suites of the services that guard their writes
 * use it to send valid tokens without running the auth hub (the guard against a real auth hub is
 * tested in the auth-guard and services' auth suites). The server does not keep the process alive.
 */
export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = `test-${randomUUID().slice(0, 8)}`;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }] });
  // `connection: close`: no kept-alive socket holds a test process open after its last test.
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(jwks);
    else res.writeHead(404, { connection: 'close' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const token = async (claims: TestTokenClaims = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: claims.sid ?? 'test-session' })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid })
      .setSubject(claims.sub ?? 'test-user')
      .setIssuer(DEFAULT_ISSUER)
      .setAudience(claims.audience ?? DEFAULT_AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.expiresInSeconds ?? 3_600))
      .sign(privateKey);
  };
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    token,
    bearer: async (claims) => `Bearer ${await token(claims)}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let shared: Promise<TestTokenIssuer> | undefined;

/** One {@link startTestTokenIssuer} per test process, started on first use (the services' test fixtures default AUTH_JWKS_URL to it). */
export function sharedTestTokenIssuer(): Promise<TestTokenIssuer> {
  shared ??= startTestTokenIssuer();
  return shared;
}

/** `env` with AUTH_JWKS_URL set to the shared test issuer's, unless it names one (or removes it with `undefined`). */
export async function withTestJwks<E extends Record<string, string | undefined>>(env: E): Promise<E> {
  return 'AUTH_JWKS_URL' in env ? env : { AUTH_JWKS_URL: (await sharedTestTokenIssuer()).jwksUrl, ...env };
}

/** `Bearer <token>` of the shared test issuer: the Authorization header of a logged-in test client. */
export async function testBearer(): Promise<string> {
  return (await sharedTestTokenIssuer()).bearer();
}

/** A supertest client of an app's HTTP server that sends the shared test issuer's token with every request. */
export async function authorizedHttp(app: { getHttpServer(): Parameters<typeof request>[0] }): Promise<ReturnType<typeof request>> {
  return request.agent(app.getHttpServer()).set('authorization', await testBearer());
}
