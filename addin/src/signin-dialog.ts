// The Office dialog part of sign-in: the dialog opens our callback page, which goes on to the
// issuer's authorize URL; the issuer redirects back to the callback page, which hands the code to
// the task pane with messageParent.
import { finishSignIn, startSignIn, type OidcSettings, type Tokens } from './core/oidc.js';

export async function signInWithDialog(settings: OidcSettings): Promise<Tokens> {
  const redirectUri = new URL('callback.html', location.href).href;
  const pending = await startSignIn(settings, redirectUri);
  const reply = await new Promise<Record<string, string>>((resolve, reject) => {
    const start = `${redirectUri}?authorize=${encodeURIComponent(pending.url)}`;
    Office.context.ui.displayDialogAsync(start, { height: 60, width: 30, promptBeforeOpen: false }, (result) => {
      if (result.status !== Office.AsyncResultStatus.Succeeded) return reject(new Error(`cannot open the sign-in dialog: ${result.error?.message ?? 'unknown error'}`));
      const dialog = result.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        dialog.close();
        try {
          resolve(JSON.parse(arg.message ?? '{}'));
        } catch {
          reject(new Error('the sign-in dialog sent an unreadable answer'));
        }
      });
      // 12006: the user closed the dialog.
      dialog.addEventHandler(Office.EventType.DialogEventReceived, (arg) => reject(new Error(arg.error === 12006 ? 'sign-in cancelled' : `sign-in dialog failed (${arg.error})`)));
    });
  });
  return finishSignIn(pending, reply, settings.clientId);
}
