/**
 * Safe Markdown: `marked` to HTML, then DOMPurify. Agent text is never injected raw.
 *
 * Images from other origins are not loaded by themselves: an agent (or whoever injected text
 * into its prompt) could carry data out in an image URL, and a reader would send it just by
 * looking. They become a placeholder naming the host, with a button to load that one image;
 * what the user chose to load stays loaded for the life of the page (the transcript re-renders
 * a message while it streams). Images inline (`data:`) or from this page's own server load.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: false, async: false });

/** Remote image URLs the user chose to load on this page. */
const loadedImages = new Set<string>();
const PENDING_SRC = 'data-glue-remote-src';

/** Whether loading `src` would reach another origin (or a scheme we do not load at all). */
export function isRemoteImage(src: string, base: string = document.baseURI): boolean {
  let url: URL;
  try {
    url = new URL(src, base);
  } catch {
    return true;
  }
  if (url.protocol === 'data:' || url.protocol === 'blob:') {
    return false;
  }
  return url.origin !== new URL(base).origin;
}

/** Our own DOMPurify instance: its hooks never touch another extension's sanitising. */
let instance: ReturnType<typeof DOMPurify> | null = null;
function purifier(): ReturnType<typeof DOMPurify> {
  if (!instance) {
    instance = DOMPurify(window);
    instance.addHook('afterSanitizeAttributes', node => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      } else if (node.tagName === 'IMG') {
        // Still in DOMPurify's inert document: nothing has been fetched yet.
        node.removeAttribute('srcset');
        node.setAttribute('referrerpolicy', 'no-referrer');
        const src = node.getAttribute('src') ?? '';
        if (src && isRemoteImage(src) && !loadedImages.has(src)) {
          node.removeAttribute('src');
          node.setAttribute(PENDING_SRC, src);
        }
      }
    });
  }
  return instance;
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
    FORBID_TAGS: [
      'style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed',
      // Media that would fetch by itself; images are handled above.
      'video', 'audio', 'source', 'track', 'picture', 'link', 'meta', 'base'
    ],
    FORBID_ATTR: ['style', 'srcset', 'background', 'poster', 'ping', 'formaction'],
    USE_PROFILES: { html: true } // no SVG or MathML: <image href> and friends would fetch too
  });
  for (const img of Array.from(el.querySelectorAll<HTMLImageElement>(`img[${PENDING_SRC}]`))) {
    img.replaceWith(remoteImagePlaceholder(img.getAttribute(PENDING_SRC) ?? '', img.alt));
  }
}

/** "Image from host — alt [Load image]"; the full URL in the tooltip. */
function remoteImagePlaceholder(src: string, alt: string): HTMLElement {
  let host = src;
  try {
    host = new URL(src, document.baseURI).host || src;
  } catch {
    /* not a URL: show it as it is */
  }
  const box = document.createElement('span');
  box.className = 'jp-GlueRemoteImage';
  box.title = src;
  const label = document.createElement('span');
  label.className = 'jp-GlueRemoteImage-label';
  label.append('Image from ');
  const hostEl = document.createElement('strong');
  hostEl.className = 'jp-GlueRemoteImage-host';
  hostEl.textContent = host;
  label.append(hostEl);
  if (alt) {
    const altEl = document.createElement('span');
    altEl.className = 'jp-GlueRemoteImage-alt';
    altEl.textContent = alt;
    label.append(altEl);
  }
  const load = document.createElement('button');
  load.type = 'button';
  load.className = 'jp-GlueButton jp-GlueRemoteImage-load';
  load.textContent = 'Load image';
  load.title = `Load ${src} (this tells ${host} that you are reading this)`;
  load.addEventListener('click', () => {
    loadedImages.add(src);
    const img = document.createElement('img');
    img.referrerPolicy = 'no-referrer';
    img.alt = alt;
    img.src = src;
    box.replaceWith(img);
  });
  box.append(label, load);
  return box;
}
