// Mounts a surface into the server-rendered shell: <div id="app" data-surface="…">. Ensures the
// portal stylesheet is present (the shell may already link it), then renders.
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { ToastProvider } from './components';

declare const __LV_STYLE_URL__: string;

function ensureStylesheet(): Promise<void> {
  const href = __LV_STYLE_URL__;
  if (!href) return Promise.resolve();
  const existing = Array.from(document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]'))
    .find((l) => l.getAttribute('href') === href);
  if (existing) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    const done = () => resolve();
    link.addEventListener('load', done, { once: true });
    link.addEventListener('error', done, { once: true });
    window.setTimeout(done, 3000);
    // Before /theme.css so the tenant's custom properties win over the defaults.
    const theme = document.querySelector('link[rel="stylesheet"][href="/theme.css"]');
    if (theme) theme.before(link);
    else document.head.appendChild(link);
  });
}

export async function mount(surface: string, app: () => ComponentChildren): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const declared = root.getAttribute('data-surface');
  if (declared && declared !== surface) {
    console.warn(`livery: bundle for ${surface} mounted on a ${declared} shell`);
  }
  await ensureStylesheet();
  document.documentElement.classList.add('lv');
  if (!document.documentElement.lang) document.documentElement.lang = 'en';
  render(<ToastProvider>{app()}</ToastProvider>, root);
}
