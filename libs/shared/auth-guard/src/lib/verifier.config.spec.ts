import { ConfigValidationError, loadServiceConfig } from '@zdm/service-defaults';
import { z } from 'zod';
import { AccessTokenVerifier } from './access-token.verifier';
import { startTestTokenIssuer } from './test-token-issuer';
import { accessTokenConfig, verifierOptionsFromConfig } from './verifier.config';

const schema = z.object(accessTokenConfig);
const problems = (env: Record<string, string>) => {
  try {
    loadServiceConfig(schema, env);
    return [];
  } catch (err) {
    return (err as ConfigValidationError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
};

describe('the access-token settings of a service', () => {
  it('require AUTH_JWKS_URL, as an http(s) URL, naming it', () => {
    expect(problems({})).toEqual(['AUTH_JWKS_URL: is required']);
    for (const bad of ['auth-hub/.well-known/jwks.json', 'ftp://auth-hub/jwks.json']) {
      expect(problems({ AUTH_JWKS_URL: bad })).toEqual([
        "AUTH_JWKS_URL: must be the http(s) URL of the auth hub's JWKS, e.g. http://auth-hub:3000/.well-known/jwks.json",
      ]);
    }
  });

  it("give the verifier the JWKS URL and the auth hub's default issuer and audience, or the ones set", () => {
    const jwksUrl = 'http://auth-hub:3000/.well-known/jwks.json';
    expect(verifierOptionsFromConfig(loadServiceConfig(schema, { AUTH_JWKS_URL: jwksUrl }))).toEqual({ keys: { jwksUrl }, issuer: 'zdm-auth-hub', audience: 'zdm' });
    const custom = loadServiceConfig(schema, { AUTH_JWKS_URL: jwksUrl, AUTH_TOKEN_ISSUER: 'hub-eu', AUTH_TOKEN_AUDIENCE: 'shop' });
    expect(verifierOptionsFromConfig(custom)).toMatchObject({ issuer: 'hub-eu', audience: 'shop' });
  });
});

describe('the stand-in token issuer of the suites', () => {
  it("issues tokens the verifier accepts from its JWKS URL, and expired or foreign-audience ones it refuses", async () => {
    const issuer = await startTestTokenIssuer();
    try {
      const verifier = new AccessTokenVerifier({ keys: { jwksUrl: issuer.jwksUrl, cooldownMs: 0 }, issuer: 'zdm-auth-hub', audience: 'zdm' });
      await expect(verifier.verify(await issuer.token({ sub: 'u1', sid: 's1' }))).resolves.toMatchObject({ sub: 'u1', sid: 's1', aud: 'zdm' });
      await expect(verifier.verify(await issuer.token({ expiresInSeconds: -60 }))).rejects.toThrow('the token has expired');
      await expect(verifier.verify(await issuer.token({ audience: 'other' }))).rejects.toThrow(/aud claim is not accepted/);
      expect(await issuer.bearer()).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    } finally {
      await issuer.close();
    }
  });
});
