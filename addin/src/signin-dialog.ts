// The Office dialog part of sign-in: the dialog opens our callback page, which asks for the
// issuer's authorize URL (messageParent; the pane answers with messageChild) and goes there; the
// issuer redirects back to the callback page, which hands the code to the task pane with
// messageParent.
import { finishSignIn, startSignIn, type OidcSettings, type Tokens } from './core/oidc.js';

export async function signInWithDialog(settings: OidcSettings): Promise<Tokens> {
  const redirectUri = new URL('callback.html', location.href).href;
  const pending = await startSignIn(settings, redirectUri);
  const reply = await new Promise<Record<string, string>>((resolve, reject) => {
    const start = `${redirectUri}?start`;
    Office.context.ui.displayDialogAsync(start, { height: 60, width: 30, promptBeforeOpen: false }, (result) => {
      if (result.status !== Office.AsyncResultStatus.Succeeded) return reject(new Error(`cannot open the sign-in dialog: ${result.error?.message ?? 'unknown error'}`));
      const dialog = result.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(arg.message ?? '{}');
        } catch {
          dialog.close();
          return reject(new Error('the sign-in dialog sent an unreadable answer'));
        }
        if (message.ready) return dialog.messageChild(JSON.stringify({ authorize: pending.url }));
        dialog.close();
        resolve(message as Record<string, string>);
      });
      // 12006: the user closed the dialog.
      dialog.addEventHandler(Office.EventType.DialogEventReceived, (arg) => reject(new Error(arg.error === 12006 ? 'sign-in cancelled' : `sign-in dialog failed (${arg.error})`)));
    });
  });
  return finishSignIn(pending, reply);
}
