/**
 * @module console/client/confirm
 * Forms with `data-confirm="…"` ask first, in a modal <dialog> (focus moves into it, Escape
 * cancels). A submit button may carry its own `data-confirm` (a form whose other button, such as
 * a preview, changes nothing); the form is then sent with that button, keeping its formaction. Without JavaScript the form is sent as it is; the action pages say what happened.
 */
let dialog: HTMLDialogElement | undefined;

function confirmDialog(): HTMLDialogElement {
  if (dialog) return dialog;
  dialog = document.createElement('dialog');
  dialog.className = 'confirm';
  dialog.setAttribute('aria-labelledby', 'confirm-text');
  dialog.innerHTML =
    '<form method="dialog"><p id="confirm-text"></p><menu><button value="cancel" type="submit">Cancel</button>' +
    '<button value="ok" type="submit" class="danger" id="confirm-ok">Confirm</button></menu></form>';
  document.body.append(dialog);
  return dialog;
}

export function enhanceConfirmForms(root: ParentNode): void {
  root.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const submitter = (event as SubmitEvent).submitter;
    const text =
      submitter instanceof HTMLElement && submitter.dataset.confirm ? submitter.dataset.confirm : form.dataset.confirm;
    if (!text || form.dataset.confirmed === 'yes') return;
    event.preventDefault();
    const d = confirmDialog();
    d.querySelector('#confirm-text')!.textContent = text;
    d.returnValue = '';
    d.addEventListener(
      'close',
      () => {
        if (d.returnValue !== 'ok') return;
        form.dataset.confirmed = 'yes';
        form.requestSubmit(
          submitter instanceof HTMLButtonElement || submitter instanceof HTMLInputElement ? submitter : null,
        );
      },
      { once: true },
    );
    d.showModal();
    d.querySelector<HTMLButtonElement>('#confirm-ok')!.focus();
  });
}
