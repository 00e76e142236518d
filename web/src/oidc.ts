// Sign-in with OIDC authorization code + PKCE (RFC 7636, S256) as a public client, for the web
// console and the Excel add-in alike. The protocol work (discovery, the issuer check, state and
// `iss` checks, the token exchange, ID token claims) is oauth4webapi's; this module only keeps a
// sign-in in progress as plain JSON (it outlives a page: the console is redirected away and back)
// and words its failures for people.
import * as oauth from 'oauth4webapi';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** The API audience some issuers (Auth0) need to mint a JWT access token. */
  audience?: string;
  scope?: string;
}

/** A sign-in between the redirect to the issuer and the exchange of its code: JSON-safe. */
export interface PendingSignIn {
  /** The issuer's authorize URL to send the user to. */
  url: string;
  verifier: string;
  state: string;
  redirectUri: string;
  clientId: string;
  /** The issuer's discovery document, as checked at the start. */
  server: oauth.AuthorizationServer;
}

export interface Tokens {
  accessToken: string;
  expiresAt: number | null;
}

export const DEFAULT_SCOPE = 'openid profile';

/** 32 random bytes: a 43-character verifier (RFC 7636 allows 43 to 128). */
export function createVerifier(): string {
  return oauth.generateRandomCodeVerifier();
}

export function challengeOf(verifier: string): Promise<string> {
  return oauth.calculatePKCECodeChallenge(verifier);
}

/** oauth4webapi insists on https; an issuer on this machine's loopback (a local or test issuer) may use http. */
function insecureAllowed(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]');
}

/** The issuer's discovery document, its `issuer` checked against the one configured. */
export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`'${issuer}' is not an issuer URL: check the issuer URL`);
  }
  let response: Response;
  try {
    response = await oauth.discoveryRequest(url, { algorithm: 'oidc', [oauth.allowInsecureRequests]: insecureAllowed(url.href) });
  } catch (error) {
    throw new Error(`cannot reach the issuer at ${url.href}: check the issuer URL (${(error as Error).message})`);
  }
  let server: oauth.AuthorizationServer;
  try {
    server = await oauth.processDiscoveryResponse(url, response);
  } catch (error) {
    throw new Error(`the issuer's discovery document at ${url.href} is not usable: ${(error as Error).message}`);
  }
  if (!server.authorization_endpoint || !server.token_endpoint) throw new Error(`the issuer ${url.href} lists no authorization_endpoint or token_endpoint: it cannot sign users in with a code`);
  return server;
}

export async function startSignIn(settings: OidcSettings, redirectUri: string): Promise<PendingSignIn> {
  if (!settings.issuer || !settings.clientId) throw new Error('enter the issuer URL and the client id of AeroGrid (ask your administrator)');
  const server = await discover(settings.issuer);
  const verifier = createVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(server.authorization_endpoint!);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectUri,
    scope: settings.scope ?? DEFAULT_SCOPE,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  };
  if (settings.audience) params.audience = settings.audience;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, redirectUri, clientId: settings.clientId, server };
}

/**
 * The issuer's answer at the redirect URI ({code, state, iss} or {error, error_description}),
 * exchanged for tokens with the sign-in's verifier.
 */
export async function finishSignIn(pending: PendingSignIn, reply: Record<string, string> | URLSearchParams): Promise<Tokens> {
  const { server } = pending;
  const client: oauth.Client = { client_id: pending.clientId };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(server, client, new URLSearchParams(reply), pending.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw new Error(`sign-in refused: ${error.error_description ?? error.error}`);
    if (/state/.test((error as Error).message)) throw new Error('sign-in answer does not match this sign-in (state differs): try again');
    throw new Error(`the sign-in answer is not usable: ${(error as Error).message}`);
  }
  const options = { [oauth.allowInsecureRequests]: insecureAllowed(server.token_endpoint!) };
  let result: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(server, client, oauth.None(), params, pending.redirectUri, pending.verifier, options);
    result = await oauth.processAuthorizationCodeResponse(server, client, response);
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) throw new Error(`the token exchange failed (${error.status}: ${error.error_description ?? error.error})`);
    throw new Error(`the token exchange failed: ${(error as Error).message}`);
  }
  return {
    accessToken: result.access_token,
    expiresAt: typeof result.expires_in === 'number' ? Date.now() + result.expires_in * 1000 : null,
  };
}

/** The `sub` claim of a JWT, read without verifying it (the servers verify): null for anything else. */
export function subjectOf(token: string): string | null {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}

/** Both tokens name the same user (an unreadable subject counts as another user). */
export function sameSubject(a: string, b: string): boolean {
  const subject = subjectOf(a);
  return subject !== null && subject === subjectOf(b);
}
