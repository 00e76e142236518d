// Sign-in with OIDC authorization code + PKCE (RFC 7636, S256), as a public client: the task pane
// builds the authorize URL, the Office dialog brings back the code, the task pane exchanges it.

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** The API audience some issuers (Auth0) need to mint a JWT access token. */
  audience?: string;
  scope?: string;
}

export interface PendingSignIn {
  url: string;
  verifier: string;
  state: string;
  tokenEndpoint: string;
  redirectUri: string;
}

export interface Tokens {
  accessToken: string;
  expiresAt: number | null;
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 32 random bytes: a 43-character verifier (RFC 7636 allows 43 to 128). */
export function createVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export async function discover(issuer: string, fetchImpl: typeof fetch = fetch): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch {
    throw new Error(`cannot reach the issuer at ${url}: check the issuer URL`);
  }
  if (!response.ok) throw new Error(`the issuer's discovery document ${url} answered ${response.status}: check the issuer URL`);
  const doc = await response.json();
  if (!doc.authorization_endpoint || !doc.token_endpoint) throw new Error(`${url} lists no authorization_endpoint or token_endpoint: this issuer cannot sign users in with a code`);
  return doc;
}

export async function startSignIn(settings: OidcSettings, redirectUri: string, fetchImpl: typeof fetch = fetch): Promise<PendingSignIn> {
  if (!settings.issuer || !settings.clientId) throw new Error('enter the issuer URL and the client id of the AeroGrid add-in (ask your administrator)');
  const endpoints = await discover(settings.issuer, fetchImpl);
  const verifier = createVerifier();
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const url = new URL(endpoints.authorization_endpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectUri,
    scope: settings.scope ?? 'openid profile',
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  };
  if (settings.audience) params.audience = settings.audience;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, tokenEndpoint: endpoints.token_endpoint, redirectUri };
}

/** What the callback page sends back through the dialog: {code, state} or {error, error_description}. */
export async function finishSignIn(pending: PendingSignIn, reply: { code?: string; state?: string; error?: string; error_description?: string }, clientId: string, fetchImpl: typeof fetch = fetch): Promise<Tokens> {
  if (reply.error) throw new Error(`sign-in refused: ${reply.error_description ?? reply.error}`);
  if (reply.state !== pending.state) throw new Error('sign-in answer does not match this sign-in (state differs): try again');
  if (!reply.code) throw new Error('sign-in answer has no code: try again');
  const response = await fetchImpl(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: reply.code, redirect_uri: pending.redirectUri, client_id: clientId, code_verifier: pending.verifier }).toString(),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) throw new Error(`the token exchange failed (${response.status}${body.error ? `: ${body.error_description ?? body.error}` : ''})`);
  return {
    accessToken: body.access_token,
    expiresAt: typeof body.expires_in === 'number' ? Date.now() + body.expires_in * 1000 : null,
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
