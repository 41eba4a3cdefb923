/**
 * The page-level bridge between the notebook widget's front end (its own bundle, loaded by
 * the widget manager) and the JupyterLab extension: one package, two bundles, same page.
 * The widget asks with a DOM event that bubbles from its own node; the lab extension, which
 * marks the page when it listens, inserts into the notebook that contains that node. No
 * kernel is involved, so it works while the kernel is busy.
 */

export const INSERT_EVENT = 'glue-jupyter:insert-code';
/** Set on <body> by the lab extension while it handles INSERT_EVENT. */
export const READY_ATTRIBUTE = 'data-glue-insert-code';

export interface IInsertRequest {
  code: string;
  run: boolean;
  /** Set by the handler: the request was taken. */
  handled: boolean;
  /** Set by the handler: how it went. */
  result?: Promise<void>;
}

/** Whether a JupyterLab extension in this page takes code into notebooks. */
export function canInsert(doc: Document = document): boolean {
  return doc.body?.hasAttribute(READY_ATTRIBUTE) ?? false;
}

/** Ask the page to insert `code` below the cell that holds `from`; null when nobody took it. */
export function requestInsert(from: HTMLElement, code: string, run: boolean): Promise<void> | null {
  const detail: IInsertRequest = { code, run, handled: false };
  from.dispatchEvent(new CustomEvent(INSERT_EVENT, { detail, bubbles: true, composed: true }));
  return detail.handled ? (detail.result ?? Promise.resolve()) : null;
}

/** Take insert requests (the lab side); returns a function that stops. */
export function handleInserts(
  handler: (target: HTMLElement, request: IInsertRequest) => Promise<void> | null,
  doc: Document = document
): () => void {
  const listener = (event: Event) => {
    const request = (event as CustomEvent<IInsertRequest>).detail;
    if (!request || request.handled) {
      return;
    }
    const result = handler(event.target as HTMLElement, request);
    if (result) {
      request.handled = true;
      request.result = result;
    }
  };
  doc.addEventListener(INSERT_EVENT, listener);
  doc.body.setAttribute(READY_ATTRIBUTE, '');
  return () => {
    doc.removeEventListener(INSERT_EVENT, listener);
    doc.body.removeAttribute(READY_ATTRIBUTE);
  };
}
