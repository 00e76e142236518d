// The sign-in dialog's page: first sent here with ?authorize=<issuer URL> (the dialog must start
// on the add-in's own domain), it goes on to the issuer; the issuer redirects back here with
// ?code&state (or ?error), which go to the task pane.
const params = new URLSearchParams(location.search);
const authorize = params.get('authorize');
if (authorize && /^https?:\/\//.test(authorize)) {
  location.replace(authorize);
} else {
  const reply: Record<string, string> = {};
  for (const name of ['code', 'state', 'error', 'error_description']) {
    const v = params.get(name);
    if (v !== null) reply[name] = v;
  }
  void Office.onReady(() => Office.context.ui.messageParent(JSON.stringify(reply)));
  document.body.textContent = reply.code ? 'Signed in: this window closes by itself.' : `Sign-in failed: ${reply.error_description ?? reply.error ?? 'no code'}`;
}
