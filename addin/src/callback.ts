// The sign-in dialog's page. Opened by the pane as callback.html?start (the dialog must start on the
// add-in's own domain), it asks the pane for the issuer's authorize URL (messageParent, answered by
// messageChild) and goes there: the URL never comes from the query string, so this page cannot be
// used to send anyone elsewhere. The issuer redirects back here with ?code&state (or ?error),
// which go to the task pane.
const params = new URLSearchParams(location.search);
if (params.has('start')) {
  void Office.onReady(() => {
    Office.context.ui.addHandlerAsync(Office.EventType.DialogParentMessageReceived, (arg) => {
      let authorize: unknown;
      try {
        authorize = JSON.parse(arg.message ?? '{}').authorize;
      } catch {
        return;
      }
      if (typeof authorize === 'string' && /^https?:\/\//.test(authorize)) location.replace(authorize);
    }, () => Office.context.ui.messageParent(JSON.stringify({ ready: true })));
  });
} else {
  const reply: Record<string, string> = {};
  for (const name of ['code', 'state', 'error', 'error_description']) {
    const v = params.get(name);
    if (v !== null) reply[name] = v;
  }
  void Office.onReady(() => Office.context.ui.messageParent(JSON.stringify(reply)));
  document.body.textContent = reply.code ? 'Signed in: this window closes by itself.' : `Sign-in failed: ${reply.error_description ?? reply.error ?? 'no code'}`;
}
