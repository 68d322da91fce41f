// Link check over every built HTML page: each internal link and asset must resolve to a file of
// the build under the base path, and each #fragment to an id on its target page. Pages must not
// load scripts, styles, images or fonts from other origins (the book works offline).
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { it } from "node:test";
import { chapters } from "./chapters.mjs";
import { fileFor } from "./site.mjs";

const origin = "http://book.invalid";

async function htmlFiles(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await htmlFiles(path)));
    else if (entry.name.endsWith(".html")) found.push(path);
  }
  return found;
}

const entities = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", "#x27": "'" };
const decode = (text) =>
  text.replace(/&(amp|lt|gt|quot|apos|#39|#x27);/g, (_, name) => entities[name]);

/** references lists the URLs a page points at: [attribute, value, tag name, rel]. */
function references(html) {
  const found = [];
  for (const tag of html.matchAll(/<([a-zA-Z][\w-]*)\s([^>]*)>/g)) {
    const [, name, attributes] = tag;
    const rel = /\srel\s*=\s*"([^"]*)"/i.exec(` ${attributes}`)?.[1] ?? "";
    for (const attr of attributes.matchAll(
      /(?:^|\s)(href|src|srcset|poster)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi,
    )) {
      const value = decode(attr[2] ?? attr[3] ?? "");
      const urls =
        attr[1].toLowerCase() === "srcset"
          ? value
              .split(",")
              .map((part) => part.trim().split(/\s+/)[0])
              .filter(Boolean)
          : [value];
      for (const url of urls)
        found.push({ attribute: attr[1].toLowerCase(), url, tag: name.toLowerCase(), rel });
    }
  }
  return found;
}

const ids = (html) =>
  new Set([...html.matchAll(/\s(?:id|name)\s*=\s*"([^"]*)"/g)].map((match) => decode(match[1])));

export function registerLinkChecks(context) {
  it("builds exactly the pages the book lists, each as an HTML file under the base path", async () => {
    const built = (await htmlFiles(context.outDir))
      .map((file) => relative(context.outDir, file).split(sep).join("/"))
      .filter((file) => file !== "404.html")
      .map((file) => file.replace(/index\.html$/, ""))
      .sort();
    assert.deepEqual(built, chapters.map((chapter) => chapter.path).sort());
  });

  it("every internal link, asset and fragment on every built page resolves under the base path", async () => {
    const { outDir, base } = context;
    const pages = await htmlFiles(outDir);
    const texts = new Map();
    for (const file of pages) texts.set(file, await readFile(file, "utf8"));
    const problems = [];
    let checked = 0;
    for (const [file, html] of texts) {
      const pagePath =
        base +
        relative(outDir, file)
          .split(sep)
          .join("/")
          .replace(/index\.html$/, "");
      const pageUrl = new URL(pagePath, origin);
      for (const { attribute, url, tag, rel } of references(html)) {
        if (url === "" || /^(mailto|tel|javascript|data):/i.test(url)) continue;
        const target = new URL(url, pageUrl);
        const where = `${pagePath}: <${tag} ${attribute}="${url}">`;
        if (target.origin !== origin) {
          // Links to other sites are fine; loading page resources from them is not (offline book).
          const loadsResource =
            tag !== "a" && !(tag === "link" && /\b(canonical|alternate|sitemap)\b/.test(rel));
          if (loadsResource) problems.push(`${where} loads a resource from another origin`);
          continue;
        }
        checked++;
        if (!target.pathname.startsWith(base)) {
          problems.push(`${where} points outside the base path ${base}`);
          continue;
        }
        const targetFile = await fileFor(outDir, base, target.pathname);
        if (!targetFile) {
          problems.push(`${where} does not resolve to a built file (${target.pathname})`);
          continue;
        }
        const fragment = decodeURIComponent(target.hash.slice(1));
        if (fragment && targetFile.endsWith(".html")) {
          const targetHtml = texts.get(targetFile) ?? (await readFile(targetFile, "utf8"));
          if (!ids(targetHtml).has(fragment))
            problems.push(`${where}: no element with id "${fragment}"`);
        }
      }
    }
    assert.ok(checked > 100, `only ${checked} internal references found: is the parser broken?`);
    assert.deepEqual(problems, [], `${problems.length} broken link(s):\n${problems.join("\n")}`);
  });
}
