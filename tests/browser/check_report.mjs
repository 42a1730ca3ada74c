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
//
// No npm packages: Chromium is driven over --remote-debugging-pipe, the DevTools protocol as NUL-terminated JSON
// messages written to its fd 3 and read from its fd 4.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SKIP = 77;

function parseArguments(argv) {
  const options = { page: null, marks: null, hover: true, screenshot: null, width: 1280, height: 900, chromium: null };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--marks') options.marks = Number.parseInt(value(), 10);
    else if (arg === '--no-hover') options.hover = false;
    else if (arg === '--screenshot') options.screenshot = value();
    else if (arg === '--width') options.width = Number.parseInt(value(), 10);
    else if (arg === '--height') options.height = Number.parseInt(value(), 10);
    else if (arg === '--chromium') options.chromium = value();
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.page = arg;
  }
  if (!options.page) throw new Error('usage: check_report.mjs REPORT.html [--marks N] [--screenshot FILE.png]');
  return options;
}

function findChromium(given) {
  if (given) return existsSync(given) ? given : null;
  if (process.env.CHROMIUM && existsSync(process.env.CHROMIUM)) return process.env.CHROMIUM;
  for (const folder of (process.env.PATH || '').split(delimiter))
    for (const name of ['chromium', 'chromium-browser', 'google-chrome'])
      if (folder && existsSync(join(folder, name))) return join(folder, name);
  return null;
}

// One DevTools connection over the pipe: send() returns a promise of the command's result; events go to
// listeners registered with on(method, handler).
class DevTools {
  constructor(input, output) {
    this.input = input;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    let buffer = Buffer.alloc(0);
    output.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
        const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
        buffer = buffer.subarray(end + 1);
        this.dispatch(message);
      }
    });
  }

  dispatch(message) {
    if (message.id !== undefined && this.pending.has(message.id)) {
      const { resolve: done, reject, method } = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) reject(new Error(`${method}: ${message.error.message}`));
      else done(message.result);
      return;
    }
    for (const { method, handler } of this.listeners) if (message.method === method) handler(message.params, message);
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((done, reject) => {
      this.pending.set(id, { resolve: done, reject, method });
      this.input.write(JSON.stringify(message) + '\0');
    });
  }

  on(method, handler) { this.listeners.push({ method, handler }); }

  once(method) { return new Promise((done) => this.on(method, (params) => done(params))); }
}

function withTimeout(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds} s: ${what}`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
  return JSON.stringify(result);
})()`;

const TOOLTIP = `(() => {
  const tip = document.getElementById('tooltip');
  const style = getComputedStyle(tip);
  const box = tip.getBoundingClientRect();
  return JSON.stringify({ text: tip.textContent, shown: style.display !== 'none' && style.visibility !== 'hidden'
                          && box.width > 0 && box.height > 0,
                          inside: box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight });
})()`;

async function check(options, chromium) {
  const failures = [];
  const profile = mkdtempSync(join(tmpdir(), 'tunelens-chromium-'));
  const browser = spawn(chromium, [
    '--headless', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--mute-audio',
    `--user-data-dir=${profile}`, `--window-size=${options.width},${options.height}`, 'about:blank',
  ], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  let browserOutput = '';
  browser.stdout.on('data', (d) => { browserOutput += d; });
  browser.stderr.on('data', (d) => { browserOutput += d; });
  const exited = new Promise((done) => browser.on('exit', (code, signal) => done({ code, signal })));
  try {
    const tools = new DevTools(browser.stdio[3], browser.stdio[4]);
    const { targetId } = await withTimeout(tools.send('Target.createTarget', { url: 'about:blank' }), 30,
                                           'starting Chromium');
    const { sessionId } = await tools.send('Target.attachToTarget', { targetId, flatten: true });
    const page = (method, params = {}) => tools.send(method, params, sessionId);

    tools.on('Runtime.consoleAPICalled', (p, m) => {
      if (m.sessionId === sessionId && (p.type === 'error' || p.type === 'assert'))
        failures.push(`console.${p.type}: ${p.args.map((a) => a.value ?? a.description ?? '').join(' ')}`);
    });
    tools.on('Runtime.exceptionThrown', (p, m) => {
      if (m.sessionId === sessionId) {
        const d = p.exceptionDetails;
        failures.push(`uncaught exception: ${d.exception?.description ?? d.text} (line ${d.lineNumber + 1})`);
      }
    });
    tools.on('Log.entryAdded', (p, m) => {
      if (m.sessionId === sessionId && p.entry.level === 'error') failures.push(`log error: ${p.entry.text} ${p.entry.url ?? ''}`);
    });
    // A report must open with no network: any request for something other than the page itself is a failure.
    tools.on('Network.requestWillBeSent', (p, m) => {
      const url = p.request.url;
      if (m.sessionId === sessionId && !url.startsWith('file:') && !url.startsWith('data:') && url !== 'about:blank')
        failures.push(`request leaving the page: ${url}`);
    });
    await page('Runtime.enable');
    await page('Log.enable');
    await page('Network.enable');
    await page('Page.enable');
    await page('Emulation.setDeviceMetricsOverride',
               { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false });

    const loaded = tools.once('Page.loadEventFired');
    const url = pathToFileURL(resolve(options.page)).href;
    const navigation = await page('Page.navigate', { url });
    if (navigation.errorText) throw new Error(`cannot open ${url}: ${navigation.errorText}`);
    await withTimeout(loaded, 30, `loading ${url}`);

    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (exceptionDetails) throw new Error(`evaluating in the page: ${exceptionDetails.text}`);
      return JSON.parse(result.value);
    };
    const seen = await evaluate(MEASURE);
    const report = [`${options.page}: "${seen.title}", ${seen.allMarks} marks with a data-title`];
    if (!seen.tooltipElement) failures.push('no #tooltip element');
    if (options.marks !== null) {
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
      await evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r("null"))))');
      await page('Input.dispatchMouseEvent', { type: 'mouseMoved', x: 1, y: 1 });
      await page('Input.dispatchMouseEvent', { type: 'mouseMoved', x: seen.target.x, y: seen.target.y });
      const tip = await evaluate(TOOLTIP);
      if (!tip.shown) failures.push(`hovering "${seen.target.title}" did not show the tooltip`);
      else if (tip.text !== seen.target.title)
        failures.push(`hovering "${seen.target.title}" showed "${tip.text}" in the tooltip`);
      else if (!tip.inside) failures.push('the tooltip is outside the window');
      else report.push(`hover: tooltip shows "${tip.text}"`);
    }
    if (options.screenshot) {
      const { data } = await page('Page.captureScreenshot', { format: 'png' });
      writeFileSync(options.screenshot, Buffer.from(data, 'base64'));
      report.push(`screenshot: ${options.screenshot}`);
    }
    // Errors logged while the checks ran are reported too.
    await new Promise((done) => setTimeout(done, 100));
    console.log(report.join('\n  '));
    await tools.send('Browser.close').catch(() => {});
  } catch (error) {
    failures.push(String(error.message ?? error));
    if (browserOutput.trim()) failures.push(`Chromium said: ${browserOutput.trim().split('\n').slice(-5).join(' | ')}`);
  } finally {
    const ended = await Promise.race([exited, new Promise((done) => setTimeout(() => done(null), 5000))]);
    if (ended === null) browser.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  }
  return failures;
}

let options;
try {
  options = parseArguments(process.argv.slice(2));
} catch (error) {
  console.error(`check_report: ${error.message}`);
  process.exit(2);
}
const chromium = findChromium(options.chromium);
if (!chromium) {
  console.log('check_report: SKIPPED: no Chromium found (install the Debian package chromium, or set CHROMIUM)');
  process.exit(SKIP);
}
if (!existsSync(options.page)) {
  console.error(`check_report: ${options.page}: no such file`);
  process.exit(1);
}
const failures = await check(options, chromium);
if (failures.length > 0) {
  console.error(`check_report: FAILED: ${options.page}`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exit(1);
}
console.log(`check_report: ok: ${options.page}`);
