// axe in Chromium, shared by the suites: every violation counts, whatever its impact.
//
// Cheaper per page than a full pass per theme: the page is checked once in the light theme, then
// its theme attribute is flipped in place and only the rules whose outcome depends on colours run
// again (the DOM is the same in both themes; only the CSS variables change). The site's header and
// sidebar are the same on every page, so callers check them once and leave them out elsewhere.
import AxeBuilder from "@axe-core/playwright";

export const axeTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** Rules whose result can change with the theme's colours. */
export const colourRules = ["color-contrast", "link-in-text-block"];

/** The site's furniture, identical on every page (apart from which sidebar link is current). */
export const siteChrome = ["header.header", "nav.sidebar"];

/**
 * violations runs axe on `page` and lists every violation of any impact as "id (impact): help —
 * where". `include` and `exclude` scope it (CSS selectors); `rules` runs only those rules.
 */
export async function violations(page, { include = [], exclude = [], rules } = {}) {
  let builder = new AxeBuilder({ page });
  builder = rules ? builder.withRules(rules) : builder.withTags(axeTags);
  for (const selector of include) builder = builder.include(selector);
  for (const selector of exclude) builder = builder.exclude(selector);
  const results = await builder.analyze();
  return results.violations.map(
    (violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes
        .slice(0, 3)
        .map((node) => node.target.join(" "))
        .join(" | ")}`,
  );
}

/** inBothThemes checks the page as it is (light), then in dark with the colour rules only. */
export async function inBothThemes(page, scope = {}) {
  const found = [];
  await setTheme(page, "light");
  for (const problem of await violations(page, scope)) found.push(`light: ${problem}`);
  await setTheme(page, "dark");
  for (const problem of await violations(page, { ...scope, rules: colourRules }))
    found.push(`dark: ${problem}`);
  await setTheme(page, "light");
  return found;
}

async function setTheme(page, theme) {
  await page.evaluate((value) => {
    document.documentElement.dataset.theme = value;
  }, theme);
}
