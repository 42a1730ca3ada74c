#!/usr/bin/env node
// Opens a tunelens report page in headless Chromium and checks what a reader would see:
//   - no console errors, uncaught exceptions or error log entries, and no request leaving the machine;
//   - with --marks N: the song map (the SVG holding <g class="marks">) has exactly N marks with a data-title;
//   - hovering the first mark (of the map if there is one, else of any chart) shows its data-title in #tooltip
//     (--no-hover for a page without charts, such as an index);
//   - every link to a local file (navigation, index) leads to a file that exists;
//   - with --screenshot FILE.png: a picture of the window at that moment (the hovered chart, tooltip showing).
//
//   node check_report.mjs REPORT.html [--marks N] [--no-hover] [--screenshot FILE.png] [--width 1280]
//                                     [--height 900] [--chromium PATH]
// Exit status: 0 when every check passes, 1 when one fails, 77 (ctest's "skipped") when Chromium is missing.
// Chromium is driven as devtools.mjs says.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { inChromium, parseOptions, runCheck } from './devtools.mjs';

function parseArguments(argv) {
  const options = parseOptions(argv, { page: null, marks: -1, hover: true, screenshot: null, width: 1280, height: 900,
                                       chromium: null }, 'page');
  if (!options.page) throw new Error('usage: check_report.mjs REPORT.html [--marks N] [--screenshot FILE.png]');
  return options;
}

// What the page shows, measured inside it: the map's marks, and the mark to hover scrolled to the middle.
const MEASURE = `(() => {
  const group = document.querySelector('g.marks');
  const map = group ? group.closest('svg') : null;
  const mapMarks = map ? map.querySelectorAll('[data-title]') : [];
  const first = mapMarks.length > 0 ? mapMarks[0] : document.querySelector('svg [data-title]');
  const result = { hasMap: map !== null, mapMarks: mapMarks.length, allMarks: document.querySelectorAll('[data-title]').length,
                   tooltipElement: document.getElementById('tooltip') !== null, title: document.title,
                   links: Array.from(document.querySelectorAll('a[href]'), (a) => a.href) };
  if (first) {
    first.scrollIntoView({ block: 'center', inline: 'center' });
    const box = first.getBoundingClientRect();
    result.target = { title: first.getAttribute('data-title'), x: box.left + box.width / 2, y: box.top + box.height / 2 };
  }
  return result;
})()`;

const TOOLTIP = `(() => {
  const tip = document.getElementById('tooltip');
  const style = getComputedStyle(tip);
  const box = tip.getBoundingClientRect();
  return { text: tip.textContent, shown: style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0
           && box.height > 0, inside: box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight };
})()`;

// A report must open with no network: any request for something other than the page itself is a failure.
const local = (url) => url.startsWith('file:');

function check(options, chromium) {
  return inChromium(chromium, { width: options.width, height: options.height, allowed: local }, async (tab, failures) => {
    const url = pathToFileURL(resolve(options.page)).href;
    await tab.navigate(url);
    const seen = await tab.evaluate(MEASURE);
    const report = [`${options.page}: "${seen.title}", ${seen.allMarks} marks with a data-title`];
    if (!seen.tooltipElement) failures.push('no #tooltip element');
    if (options.marks >= 0) {
      if (!seen.hasMap) failures.push(`expected a song map with ${options.marks} marks, found no map`);
      else if (seen.mapMarks !== options.marks)
        failures.push(`the song map has ${seen.mapMarks} marks, expected ${options.marks}`);
      else report.push(`song map: ${seen.mapMarks} marks, as expected`);
    }
    for (const link of seen.links) {
      if (!link.startsWith('file:')) continue;
      const target = fileURLToPath(link.split('#')[0]);
      if (!existsSync(target)) failures.push(`broken link: ${target}`);
    }
    if (seen.links.length > 0) report.push(`${seen.links.length} links checked`);
    if (!options.hover) {
      // A page without charts: only errors and links are checked.
    } else if (!seen.target) {
      failures.push('nothing to hover: no element with a data-title in an SVG');
    } else {
      // Let the scroll settle, then move the pointer onto the mark's centre as a mouse would.
      await tab.settle();
      await tab.hover(seen.target.x, seen.target.y);
      const tip = await tab.evaluate(TOOLTIP);
      if (!tip.shown) failures.push(`hovering "${seen.target.title}" did not show the tooltip`);
      else if (tip.text !== seen.target.title)
        failures.push(`hovering "${seen.target.title}" showed "${tip.text}" in the tooltip`);
      else if (!tip.inside) failures.push('the tooltip is outside the window');
      else report.push(`hover: tooltip shows "${tip.text}"`);
    }
    if (options.screenshot) {
      await tab.screenshot(options.screenshot);
      report.push(`screenshot: ${options.screenshot}`);
    }
    console.log(report.join('\n  '));
  });
}

await runCheck('check_report', parseArguments, (options) => options.page, async (options, chromium) => {
  if (!existsSync(options.page)) return [`${options.page}: no such file`];
  return check(options, chromium);
});
