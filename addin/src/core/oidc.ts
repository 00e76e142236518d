// Sign-in with OIDC authorization code + PKCE: the shared module of the web code (web/src/oidc.ts,
// on oauth4webapi), which the console uses too.
export * from '@aerogrid/web/oidc';
