// Renders model output as sanitised markdown. While streaming, completed blocks are rendered
// once and kept (their DOM is never touched again); only the open tail is re-rendered, at most
// once per animation frame. Code blocks get a language label and a Copy button (built with DOM
// APIs, not HTML strings).
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { splitBlocks, stableTail } from '../lib/markdown-blocks';
import { renderMarkdown } from '../lib/markdown';
import { copyText } from './components';

function decorateCode(root: HTMLElement): void {
  root.querySelectorAll('pre').forEach((pre) => {
    if (pre.parentElement?.classList.contains('code-block')) return;
    const code = pre.querySelector('code');
    const lang = (code?.className.match(/language-([A-Za-z0-9_+#.-]+)/) ?? [])[1] ?? '';
    const wrap = document.createElement('div');
    wrap.className = 'code-block';
    const head = document.createElement('div');
    head.className = 'code-head';
    const label = document.createElement('span');
    label.textContent = lang || 'code';
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'btn btn-ghost btn-small code-copy';
    btn.textContent = 'Copy';
    btn.setAttribute('aria-label', `Copy ${lang || 'code'} block`);
    btn.addEventListener('click', async () => {
      if (await copyText(code?.textContent ?? pre.textContent ?? '')) {
        btn.textContent = 'Copied';
        window.setTimeout(() => { btn.textContent = 'Copy'; }, 2000);
      }
    });
    head.append(label, btn);
    pre.replaceWith(wrap);
    wrap.append(head, pre);
  });
}

const Block = memo(({ source }: { source: string }) => {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.innerHTML = renderMarkdown(source);  // sanitised by DOMPurify in renderMarkdown
    decorateCode(el);
  }, [source]);
  return <div class="md-block" ref={ref} />;
});

export function MarkdownView({ text, streaming }: { text: string; streaming: boolean }) {
  // Throttle to one render per animation frame while streaming.
  const [shown, setShown] = useState(text);
  const pending = useRef(0);
  useEffect(() => {
    if (!streaming) {
      window.cancelAnimationFrame(pending.current);
      pending.current = 0;
      setShown(text);
      return;
    }
    if (pending.current) return;
    pending.current = window.requestAnimationFrame(() => {
      pending.current = 0;
      setShown(text);
    });
  }, [text, streaming]);
  useEffect(() => () => window.cancelAnimationFrame(pending.current), []);

  if (!streaming) {
    return <div class="md"><Block source={shown} /></div>;
  }
  const { done, tail } = splitBlocks(shown);
  const open = stableTail(tail);
  return (
    <div class="md">
      {done.map((b, i) => <Block key={i} source={b} />)}
      {open && <Block key="tail" source={open} />}
      <span class="cursor" aria-hidden="true" />
    </div>
  );
}
