// Builds the docs site exactly as `npm run docs:build` does (TypeDoc with validation, then VitePress),
// serves it on loopback and checks it in headless Chromium.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type StaticServer } from './serve';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = join(root, 'docs/.vitepress/dist');
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: StaticServer;
let browser: Browser;

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.url + path, { waitUntil: 'networkidle' });
  return page;
}

beforeAll(async () => {
  // Every build step must succeed: TypeDoc fails on undocumented exports and broken {@link}s.
  const opts = { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } };
  try {
    await run(bin('typedoc'), [], opts);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`typedoc failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  await run(bin('vitepress'), ['build', 'docs'], opts);
  server = await serveStatic(dist);
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 900_000); // typedoc + vitepress: ~2 min on an idle 2-core machine, several times that under load

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('docs site', () => {
  it('home page loads without console errors', async () => {
    const errors: string[] = [];
    const page = await browser.newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
    const res = await page.goto(server.url + '/', { waitUntil: 'networkidle' });
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.locator('.VPHero .name').textContent()).toContain('r1-ts');
    expect(await page.locator('.VPFeature').count()).toBeGreaterThanOrEqual(4);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the API page of @r1-ts/grpo shows policyLoss with its example', async () => {
    const page = await open('/api/@r1-ts/grpo/');
    const link = page.locator('.vp-doc a', { hasText: /^policyLoss$/ }).first();
    expect(await link.count(), 'policyLoss is listed on the @r1-ts/grpo API page').toBe(1);
    await link.click();
    await page.waitForURL(/policyLoss/);
    await expect.poll(() => page.locator('.vp-doc h1').first().textContent()).toContain('policyLoss');
    // The code block right after the "Example" heading must use policyLoss.
    const example = await page.evaluate(() => {
      const heading = [...document.querySelectorAll('.vp-doc h2, .vp-doc h3, .vp-doc h4')]
        .find((h) => /^Examples?\b/.test(h.textContent?.trim() ?? ''));
      let el = heading?.nextElementSibling;
      while (el && !/language-/.test(el.className)) el = el.nextElementSibling;
      return el?.textContent ?? null;
    });
    expect(example, 'an Example section with a code block').not.toBeNull();
    expect(example).toContain('policyLoss');
    await page.close();
  });

  it('local search finds Mla', async () => {
    const page = await open('/');
    await page.locator('.VPNavBarSearch .DocSearch-Button').click();
    const input = page.locator('#localsearch-input');
    await input.waitFor();
    await input.fill('Mla');
    const results = page.locator('#localsearch-list a.result');
    await results.first().waitFor({ timeout: 10_000 });
    const hrefs = await results.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    // The API reference of @r1-ts/attention-mla documents the class Mla.
    expect(hrefs.some((h) => /\/api\/@r1-ts\/attention-mla\/classes\/Mla(\.html)?(#|$)/.test(h)), hrefs.join('\n')).toBe(true);
    await page.close();
  });

  // A package page (built from its README) or a guide page opens with a code block that holds the given text.
  it.each([
    ['/packages/model.html', 'ts', ['new DeepSeekModel(', 'new SftTrainer(', 'generate(model, tokenizer'], 'DeepSeekPolicy'],
    ['/packages/pipeline.html', 'ts', ['resolveRecipeConfig(', 'runRecipe(config'], 'recipe config reference'],
    ['/packages/distill.html', 'ts', ['sampleFromTeacher(', 'kept'], 'OpenAICompatibleTeacher'],
    ['/guide/cli.html', 'sh', ['r1 run --preset quick', 'r1 eval runs/quick/rl-all/ckpt-1'], 'Exit codes'],
  ])('%s opens with a runnable example', async (path, lang, snippets, alsoOnPage) => {
    const page = await open(path);
    // Package pages start with the `npm install` line (sh); the example is the first ts block after it.
    const code = (await page.locator(`.vp-doc div.language-${lang} pre`).first().textContent()) ?? '';
    for (const s of snippets) expect(code, `${path}: first example`).toContain(s);
    expect(code.trim().split('\n').length, `${path}: first example length`).toBeLessThanOrEqual(15);
    expect(await page.locator('.vp-doc').textContent()).toContain(alsoOnPage);
    await page.close();
  });

  it('the recipe config reference names every field r1 run --config accepts', async () => {
    const { recipePresets } = await import('@r1-ts/pipeline');
    const page = await open('/guide/recipe-config.html');
    const text = await page.locator('.vp-doc').innerText(); // innerText: table cells stay apart
    await page.close();
    const fields = new Set<string>();
    const walk = (o: object) => {
      for (const [k, v] of Object.entries(o)) {
        fields.add(k);
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v);
      }
    };
    walk(recipePresets.demo);
    const missing = [...fields].filter((f) => !new RegExp(`\\b${f}\\b`).test(text));
    expect(fields.size).toBeGreaterThan(40);
    expect(missing, 'fields of the recipe config missing from the reference').toEqual([]);
  });

  it('renders math, and code blocks fit their column (nothing cut off on the right)', async () => {
    const page = await open('/guide/grpo.html');
    expect(await page.locator('.vp-doc mjx-container').count()).toBeGreaterThan(5);
    expect(await page.locator('.vp-doc').textContent()).not.toMatch(/\$\$|\\frac/);
    await page.close();
    for (const path of ['/guide/grpo.html', '/packages/grpo.html', '/api/@r1-ts/grpo/functions/policyLoss.html']) {
      const p = await open(path);
      const clipped = await p.locator('.vp-doc div[class*="language-"] pre').evaluateAll((pres) =>
        pres.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent?.slice(0, 60)));
      expect(clipped, path).toEqual([]);
      await p.close();
    }
  });

  it('renders TSDoc math on the API pages (policyLoss: the GRPO objective)', async () => {
    const page = await open('/api/@r1-ts/grpo/functions/policyLoss.html');
    const doc = page.locator('.vp-doc');
    // MathJax SVG output: a display formula; no TeX source or sanitizer escapes left in the text.
    const display = doc.locator('mjx-container[display="true"]');
    expect(await display.count()).toBeGreaterThanOrEqual(1);
    expect(await display.first().locator('svg').count()).toBe(1);
    // Typeset, not a one-glyph error box: the subscripts (L_{i,t}, Â_i, ε_low, ε_high) came through as subscripts.
    expect(await display.first().locator('[data-mml-node="msub"]').count()).toBeGreaterThanOrEqual(4);
    expect(await display.first().locator('[data-mml-node="merror"]').count()).toBe(0);
    // The formula has no literal braces: a drawn { or } (MathJax glyph 7B/7D) means the sanitizer's
    // `\{` escapes reached MathJax (`L_\{i,t\}` typesets as L with a brace subscript).
    expect(await display.first().locator('[data-c="7B"], [data-c="7D"]').count()).toBe(0);
    const text = (await doc.textContent()) ?? '';
    expect(text).not.toMatch(/\$\$|\\min|\\operatorname|\\\{|L_\{/);
    expect(text).toContain('with w per importanceSampling');
    await page.close();
  });

  it("the API page of policyLoss describes each parameter, not only its type", async () => {
    const page = await open('/api/@r1-ts/grpo/functions/policyLoss.html');
    const rows = await page.locator('.vp-doc table').first().locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
    await page.close();
    expect(rows.map((r) => r[0])).toEqual(['inputs', 'options?']);
    for (const r of rows) expect(r.at(-1)!.length, r[0]).toBeGreaterThan(20);
  });

  it('every sidebar link resolves', async () => {
    const page = await open('/guide/getting-started.html');
    const hrefs = await page.locator('.VPSidebar a.link').evaluateAll((as) =>
      as.map((a) => (a as HTMLAnchorElement).href));
    await page.close();
    const internal = [...new Set(hrefs.map((h) => h.split('#')[0]))].filter((h) => h.startsWith(server.url));
    expect(internal.length).toBeGreaterThan(10);
    const broken: string[] = [];
    for (const url of internal) {
      const res = await fetch(url);
      if (res.status !== 200) broken.push(`${res.status} ${url}`);
      await res.arrayBuffer();
    }
    expect(broken).toEqual([]);
  });
});
