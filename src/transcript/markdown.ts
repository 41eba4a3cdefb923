/**
 * Safe Markdown: `marked` to HTML, then DOMPurify. Agent text is never injected raw.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: false, async: false });

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', node => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  return DOMPurify;
}

/** Above this size, text is shown preformatted instead of parsed (keeps huge streams cheap). */
export const MARKDOWN_LIMIT = 200_000;

export function renderMarkdown(el: HTMLElement, text: string): void {
  if (text.length > MARKDOWN_LIMIT) {
    el.classList.add('jp-GlueMarkdown-plain');
    el.textContent = text;
    return;
  }
  el.classList.remove('jp-GlueMarkdown-plain');
  const html = marked.parse(text) as string;
  el.innerHTML = purifier().sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style']
  });
}
