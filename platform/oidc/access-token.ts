// Access tokens of an OpenID Connect provider, checked the way a resource server checks them: the
// signature against the issuer's published keys (JWKS, found through its discovery document and
// refreshed when a token names a key not seen yet), then issuer, audience, expiry, and one claim
// the operator requires (a group, usually). jose does the JWT work; nothing here parses a token.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** `groups=temporal-operators,platform-admins`: the claim must be, or (a list) contain, one of the values. */
export interface RequiredClaim {
  name: string;
  values: string[];
}

export interface AccessTokenSettings {
  /** The issuer's URL, exactly as its tokens' `iss` says it. */
  issuer: string;
  /** Accepted `aud` values; a token must name at least one. */
  audiences: string[];
  required: RequiredClaim;
  /** Where the keys are; unset: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string | undefined;
}

/** Why a token is refused: 401 (not a valid token of the issuer for us), 403 (valid, but not allowed), 503 (the issuer's keys cannot be read). */
export class TokenRefused extends Error {
  override readonly name = 'TokenRefused';
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
  ) {
    super(message);
  }
}

// Only asymmetric signatures: a token signed with a shared secret or not at all proves nothing here.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
// Clocks of the issuer and the broker may differ a little; a token expired for longer is refused.
const CLOCK_TOLERANCE_SECONDS = 5;

/** Parses `name=value[,value...]`; throws a message a person can act on. */
export function parseRequiredClaim(text: string): RequiredClaim {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const values =
    at > 0
      ? text
          .slice(at + 1)
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : [];
  if (!name || !values.length) throw new Error(`"${text}" is not <claim>=<value>[,<value>...], for example groups=temporal-operators`);
  return { name, values };
}

const holds = (claim: unknown, values: string[]) =>
  Array.isArray(claim) ? claim.some((c) => typeof c === 'string' && values.includes(c)) : typeof claim === 'string' && values.includes(claim);

async function discoverJwks(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    document = (await res.json()) as typeof document;
  } catch (err) {
    throw new TokenRefused(503, `cannot read the OIDC issuer's discovery document ${url}: ${(err as Error).message}`);
  }
  if (document.issuer !== issuer || typeof document.jwks_uri !== 'string') {
    throw new TokenRefused(
      503,
      `the discovery document ${url} names issuer ${String(document.issuer)} and jwks_uri ${String(document.jwks_uri)}; CODEC_OIDC_ISSUER must be that issuer exactly`,
    );
  }
  return new URL(document.jwks_uri);
}

/** A function that returns the claims of a token it accepts and throws TokenRefused otherwise. */
export function accessTokenVerifier(settings: AccessTokenSettings): (token: string) => Promise<JWTPayload> {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  // Discovery runs on first use and again after a failure, so the API starts while the issuer is down.
  const jwks = async () => (keys ??= createRemoteJWKSet(settings.jwksUrl ? new URL(settings.jwksUrl) : await discoverJwks(settings.issuer)));
  const { name, values } = settings.required;

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await jwks(), {
        issuer: settings.issuer,
        audience: settings.audiences,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (err instanceof TokenRefused) throw err;
      if (unreadableKeys(err)) {
        throw new TokenRefused(503, `cannot read the OIDC issuer's keys: ${(err as Error).message}`);
      }
      throw new TokenRefused(401, refusal(err as errors.JOSEError));
    }
    if (!holds(payload[name], values)) {
      throw new TokenRefused(403, `the token's ${name} claim holds none of ${values.join(', ')} (CODEC_OIDC_CLAIM)`);
    }
    return payload;
  };
}

/** Network failures, and jose's own errors about the key set (a bare JOSEError is its "not 200 OK" or "not JSON"). */
const unreadableKeys = (err: unknown) =>
  !(err instanceof errors.JOSEError) ||
  err instanceof errors.JWKSTimeout ||
  err instanceof errors.JWKSInvalid ||
  (err as object).constructor === errors.JOSEError;

/** What was wrong with the token, in words (jose's codes are stable, its messages are not ours). */
function refusal(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'the token is from another issuer';
    if (err.claim === 'aud') return 'the token is for another audience';
    return `the token's ${err.claim} claim is not valid: ${err.reason}`;
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed)
    return "the token is not signed by one of the issuer's keys";
  return `the token is not a valid signed JWT (${err.code})`;
}
