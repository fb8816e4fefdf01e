// One page per workspace package, built from its README so the page never drifts from it.
import { apiLink, listPackages } from '../.vitepress/packages.mts';

/** Escape text that Vue's template compiler would read as markup, outside code spans and fences. */
function escapeForVue(text: string): string {
  return text
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/\{\{/g, '&#123;&#123;')))
    .join('');
}

/**
 * README → page body: drop the title (the page has its own), keep fenced code verbatim, escape markup
 * elsewhere, and turn repository-relative links (which do not exist on the site) into plain text.
 */
export function readmeToPage(readme: string): string {
  const lines = readme.replace(/^# .*\n/, '').split('\n');
  let inFence = false;
  return lines
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return line;
      }
      if (inFence) return line;
      const unlinked = line.replace(/\[([^\]]+)\]\((?!https?:|#|mailto:)[^)]*\)/g, '$1');
      return escapeForVue(unlinked);
    })
    .join('\n');
}

export default {
  paths() {
    return listPackages().map((p) => ({
      params: { pkg: p.dir },
      content: [
        `# ${p.name}`,
        '',
        escapeForVue(p.description),
        '',
        '```sh',
        `npm install ${[p.name, ...p.peers].join(' ')}`,
        '```',
        '',
        `API reference: [${p.name}](${apiLink(p.name)}) · source: \`packages/${p.dir}\``,
        '',
        readmeToPage(p.readme),
      ].join('\n'),
    }));
  },
};
