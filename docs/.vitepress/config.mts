import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { listPackages, repoRoot } from './packages.mts';

// TypeDoc (typedoc-vitepress-theme) writes this sidebar next to the API pages it generates.
const apiSidebarFile = join(repoRoot, 'docs/api/typedoc-sidebar.json');
const apiSidebar: DefaultTheme.SidebarItem[] = existsSync(apiSidebarFile)
  ? JSON.parse(readFileSync(apiSidebarFile, 'utf8'))
  : [];

const packages = listPackages();

const concepts: DefaultTheme.SidebarItem[] = [
  { text: 'Multi-head Latent Attention', link: '/guide/mla' },
  { text: 'DeepSeek Sparse Attention', link: '/guide/dsa' },
  { text: 'DeepSeekMoE', link: '/guide/moe' },
  { text: 'GRPO, GSPO and DAPO', link: '/guide/grpo' },
  { text: 'Rewards', link: '/guide/rewards' },
  { text: 'The four stages', link: '/guide/stages' },
  { text: 'Distillation', link: '/guide/distillation' },
];

export default defineConfig({
  title: 'r1-ts',
  description: "DeepSeek-R1's open training recipe in TypeScript on TensorFlow.js",
  lang: 'en-GB',
  lastUpdated: false,
  srcExclude: ['test/**'],
  // $…$ and $$…$$ are rendered by MathJax at build time (SVG: nothing to load in the browser).
  markdown: { math: true },
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  // The local search index of a few hundred API pages is one large chunk; that is expected.
  vite: { build: { chunkSizeWarningLimit: 4096 } },
  themeConfig: {
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Concepts', link: '/guide/mla' },
      { text: 'Packages', link: `/packages/${packages[0]?.dir ?? ''}` },
      { text: 'API', link: '/api/' },
    ],
    sidebar: [
      { text: 'Guide', items: [{ text: 'Getting started', link: '/guide/getting-started' }, { text: 'The r1 CLI', link: '/guide/cli' }, { text: 'Recipe config', link: '/guide/recipe-config' }, { text: 'Speed on a CPU', link: '/guide/performance' }, { text: 'Running on a GPU', link: '/guide/gpu' }, { text: 'Scale out', link: '/guide/scale-out' }] },
      { text: 'Concepts', items: concepts },
      {
        text: 'Packages',
        collapsed: false,
        items: packages.map((p) => ({ text: p.name, link: `/packages/${p.dir}` })),
      },
      { text: 'API reference', link: '/api/', collapsed: true, items: apiSidebar },
    ],
    outline: { level: [2, 3] },
    footer: { message: 'MIT licensed' },
  },
});
