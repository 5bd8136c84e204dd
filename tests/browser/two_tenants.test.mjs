// Issue 9, "Done when": two tenants' workspaces, screenshotted: different logo, colours and
// title, and no data of one in the other.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir, hexToRgb, makePng, near, newContext, pixel, startWorld } from './lib/harness.mjs';

let world;
before(async () => { world = await startWorld(); });
after(async () => { await world?.close(); });

const kTenants = [
  { slug: 'northwind', name: 'Northwind Writer', primary: '#b91c1c', logo: [185, 28, 28], secret: 'Northwind quarterly plan' },
  { slug: 'contoso', name: 'Contoso Assistant', primary: '#1d4ed8', logo: [29, 78, 216], secret: 'Contoso merger memo' },
];

test('each workspace shows only its own brand and data', async () => {
  const dir = await artifactsDir();
  for (const t of kTenants) {
    const r = await world.readyTenant(t.slug, t.name);
    await r.admin.setBranding({ display_name: t.name, primary_color: t.primary, accent_color: '#111827', support_email: `help@${t.slug}.test`, footer_text: `© ${t.name}` });
    await r.admin.uploadLogo(makePng(96, 32, t.logo));
    t.user = r.user;
  }
  await world.backend.fake.behaviour({ reply: 'Noted.', chunks: 2, chunk_delay_ms: 5 });

  const seen = {};
  for (const t of kTenants) {
    const ctx = await newContext(world.browser);
    const page = await ctx.newPage();
    try {
      await world.signInWorkspace(page, t.slug, t.user);
      // Leave a conversation with tenant-specific text behind.
      await page.getByLabel('Message', { exact: true }).fill(t.secret);
      await page.keyboard.press('Enter');
      await page.getByTestId('chat-announce').filter({ hasText: 'Answer complete' }).waitFor();
      await page.getByRole('button', { name: t.secret, exact: true }).waitFor();  // listed in the history

      await page.reload();
      await page.getByRole('button', { name: t.secret, exact: true }).waitFor();  // kept server-side
      assert.equal(await page.title(), t.name);
      const logo = page.locator('.ws-brand img.brand-logo');
      assert.equal(await logo.getAttribute('alt'), t.name);
      const logoSrc = await logo.getAttribute('src');
      assert.ok(logoSrc.startsWith('/'), `logo served from the tenant's own host: ${logoSrc}`);
      const bg = await page.getByRole('button', { name: 'New chat' }).evaluate((e) => getComputedStyle(e).backgroundColor);
      assert.equal(bg, `rgb(${hexToRgb(t.primary).join(', ')})`, 'the primary button wears the brand colour');
      const fav = await page.locator('link[rel="icon"]').count();
      assert.ok(fav <= 1);

      const shot = await page.screenshot({ path: path.join(dir, `workspace-${t.slug}-${world.backend.kind}.png`) });
      // Pixel probes: the sidebar's top brand bar and the logo itself.
      const sidebar = await page.locator('.ws-sidebar').boundingBox();
      assert.ok(near(pixel(shot, Math.round(sidebar.x + 20), Math.round(sidebar.y + 1)), hexToRgb(t.primary)), 'brand bar colour');
      const lb = await logo.boundingBox();
      assert.ok(near(pixel(shot, Math.round(lb.x + lb.width / 2), Math.round(lb.y + lb.height / 2)), t.logo), 'logo pixels');
      seen[t.slug] = { html: await page.content(), logoSrc, bg };
    } finally {
      await ctx.close();
    }
  }

  const [a, b] = kTenants;
  assert.notEqual(seen[a.slug].logoSrc, seen[b.slug].logoSrc);
  assert.notEqual(seen[a.slug].bg, seen[b.slug].bg);
  for (const [me, other] of [[a, b], [b, a]]) {
    const html = seen[me.slug].html;
    for (const leak of [other.name, other.secret, other.primary, `help@${other.slug}.test`, seen[other.slug].logoSrc]) {
      assert.ok(!html.includes(leak), `${me.slug}'s workspace must not contain ${leak}`);
    }
  }

  // A session of one tenant is not a session on the other's host.
  const ctx = await newContext(world.browser);
  const page = await ctx.newPage();
  try {
    await world.signInWorkspace(page, a.slug, a.user);
    await page.goto(world.url(b.slug, '/'));
    await page.getByRole('heading', { name: `Sign in to ${b.name}` }).waitFor();
    assert.ok(!(await page.content()).includes(a.secret));
  } finally {
    await ctx.close();
  }
});

test('the workspace works on a phone: drawer, composer in view', async () => {
  const t = kTenants[0];
  const ctx = await newContext(world.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  try {
    await world.signInWorkspace(page, t.slug, t.user);  // the tenant was set up by the test above
    const composer = page.getByLabel('Message', { exact: true });
    assert.ok(await composer.isVisible());
    const box = await composer.boundingBox();
    assert.ok(box.y + box.height <= 844, 'composer above the fold');
    const history = page.getByRole('button', { name: t.secret, exact: true });
    assert.ok(!(await history.isVisible()), 'history hidden in the closed drawer');
    await page.getByRole('button', { name: 'Open menu' }).click();
    await history.waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(await artifactsDir(), `workspace-mobile-${world.backend.kind}.png`) });
  } finally {
    await ctx.close();
  }
});
