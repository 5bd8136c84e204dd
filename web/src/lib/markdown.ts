// Markdown for model output: marked (GFM) → DOMPurify → HTML string. Model output is untrusted
// (prompt injection), so nothing reaches the DOM without DOMPurify, and:
//  - images are rendered as links, never loaded (an image URL can exfiltrate chat data);
//  - links open in a new tab with rel="noopener noreferrer nofollow"; only http(s)/mailto kept;
//  - no style attributes, forms, iframes, scripts or event handlers.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    image({ href, text }) {
      const label = text || href || 'image';
      return `<a href="${escapeHtml(href ?? '')}">${escapeHtml('🖼 ' + label)}</a>`;
    },
  },
});

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  // Classes only as marked writes them on code (the language label); nothing else.
  DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
    if (data.attrName === 'class' &&
        !(node.nodeName === 'CODE' && /^language-[A-Za-z0-9_+#.-]{1,32}$/.test(data.attrValue))) {
      data.keepAttr = false;
    }
  });
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (!/^(https?:|mailto:)/i.test(href)) {
        node.removeAttribute('href');
      } else {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    }
  });
}

const kPurifyConfig = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'img', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object',
                'embed', 'video', 'audio', 'source', 'picture', 'svg', 'math', 'dialog'],
  FORBID_ATTR: ['style', 'id', 'srcset', 'action', 'formaction'],
  ALLOW_DATA_ATTR: false,
};

/** Renders untrusted markdown to sanitised HTML. */
export function renderMarkdown(md: string): string {
  installHooks();
  const html = marked.parse(md) as string;
  return DOMPurify.sanitize(html, kPurifyConfig) as unknown as string;
}
