// What the browser checks (check_report.mjs, check_page.mjs) share: finding Chromium, starting it headless with one
// page driven over the DevTools protocol, and collecting what the page reports as wrong.
//
// No npm packages: Chromium is driven over --remote-debugging-pipe, the DevTools protocol as NUL-terminated JSON
// messages written to its fd 3 and read from its fd 4.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// The exit status ctest reads as "skipped".
export const SKIP = 77;

export function findChromium(given) {
  if (given) return existsSync(given) ? given : null;
  if (process.env.CHROMIUM && existsSync(process.env.CHROMIUM)) return process.env.CHROMIUM;
  for (const folder of (process.env.PATH || '').split(delimiter))
    for (const name of ['chromium', 'chromium-browser', 'google-chrome'])
      if (folder && existsSync(join(folder, name))) return join(folder, name);
  return null;
}

// One DevTools connection over the pipe: send() returns a promise of the command's result; events go to
// listeners registered with on(method, handler).
export class DevTools {
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

export function withTimeout(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds} s: ${what}`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The page of one Chromium: DevTools commands sent to it, and the steps the checks are made of.
class Tab {
  constructor(tools, sessionId) {
    this.tools = tools;
    this.sessionId = sessionId;
  }

  send(method, params = {}) { return this.tools.send(method, params, this.sessionId); }

  // Opens `url` and waits for its load event.
  async navigate(url) {
    const loaded = this.tools.once('Page.loadEventFired');
    const navigation = await this.send('Page.navigate', { url });
    if (navigation.errorText) throw new Error(`cannot open ${url}: ${navigation.errorText}`);
    await withTimeout(loaded, 30, `loading ${url}`);
  }

  // The value of a script run in the page (a promise is awaited); its exception is thrown here.
  async evaluate(expression) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate',
                                                         { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails)
      throw new Error(`evaluating in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  }

  // Waits until `expression` gives a truthy value in the page, and returns that value.
  async waitFor(expression, seconds, what) {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const value = await this.evaluate(expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s: ${what}`);
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  // Two animation frames: what a scroll or a change of layout did is drawn.
  settle() { return this.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))'); }

  // The pointer moves in from the corner onto (x, y), as a mouse would.
  async hover(x, y) {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: 1, y: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
  }

  async click(x, y) {
    await this.hover(x, y);
    for (const type of ['mousePressed', 'mouseReleased'])
      await this.send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 });
  }

  async resize(width, height, mobile = false) {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  async screenshot(file) {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }
}

// Starts headless Chromium at width x height with one page and runs `body(tab, failures)` on it. Returns the
// failures: those `body` adds, every console error or assertion, uncaught exception and error log entry of the
// page, every request for a URL that `allowed(url)` refuses, and the error that stopped `body` (with the last
// lines Chromium wrote). `flags`: more command-line switches for Chromium.
export async function inChromium(chromium, { width, height, allowed, flags = [] }, body) {
  const failures = [];
  const profile = mkdtempSync(join(tmpdir(), 'tunelens-chromium-'));
  const browser = spawn(chromium, [
    '--headless', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--mute-audio',
    `--user-data-dir=${profile}`, `--window-size=${width},${height}`, ...flags, 'about:blank',
  ], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  let browserOutput = '';
  browser.stdout.on('data', (d) => { browserOutput += d; });
  browser.stderr.on('data', (d) => { browserOutput += d; });
  const exited = new Promise((done) => browser.on('exit', (code, signal) => done({ code, signal })));
  browser.stdio[3].on('error', () => {});  // a Chromium that died: what it says is reported, not a broken pipe
  const tools = new DevTools(browser.stdio[3], browser.stdio[4]);
  try {
    const { targetId } = await withTimeout(tools.send('Target.createTarget', { url: 'about:blank' }), 30,
                                           'starting Chromium');
    const { sessionId } = await tools.send('Target.attachToTarget', { targetId, flatten: true });
    const tab = new Tab(tools, sessionId);

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
    tools.on('Network.requestWillBeSent', (p, m) => {
      const url = p.request.url;
      if (m.sessionId === sessionId && !url.startsWith('data:') && url !== 'about:blank' && !allowed(url))
        failures.push(`request leaving the page: ${url}`);
    });
    await tab.send('Runtime.enable');
    await tab.send('Log.enable');
    await tab.send('Network.enable');
    await tab.send('Page.enable');
    await tab.resize(width, height);
    await body(tab, failures);
    // Errors logged while the checks ran are reported too.
    await new Promise((done) => setTimeout(done, 100));
  } catch (error) {
    failures.push(String(error.message ?? error));
    // Its last lines, less the complaints of a machine without D-Bus.
    const said = browserOutput.trim().split('\n').filter((line) => line && !line.includes(':ERROR:dbus/'));
    if (said.length > 0) failures.push(`Chromium said: ${said.slice(-5).join(' | ')}`);
  } finally {
    // Closed, or killed; its profile removed once it is gone (its last processes may still be writing there).
    tools.send('Browser.close').catch(() => {});
    const ended = await Promise.race([exited, new Promise((done) => setTimeout(() => done(null), 5000))]);
    if (ended === null) {
      browser.kill('SIGKILL');
      await exited;
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  return failures;
}

// A check script's life: its arguments parsed by `parse(argv)` (an Error: usage, exit 2), Chromium found (else
// exit 77), then `check(options, chromium)` run; its failures are printed and make the exit status 1. `name`
// starts each line printed and `subject(options)` names what was checked.
export async function runCheck(name, parse, subject, check) {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${name}: ${error.message}`);
    process.exit(2);
  }
  const chromium = findChromium(options.chromium);
  if (!chromium) {
    console.log(`${name}: SKIPPED: no Chromium found (install the Debian package chromium, or set CHROMIUM)`);
    process.exit(SKIP);
  }
  const failures = await check(options, chromium);
  if (failures.length > 0) {
    console.error(`${name}: FAILED: ${subject(options)}`);
    for (const failure of failures) console.error(`  ${failure}`);
    process.exit(1);
  }
  console.log(`${name}: ok: ${subject(options)}`);
}

// Reads --name value pairs and flags from `argv` into a copy of `defaults`: a key whose default is a number takes
// a whole number, a boolean default makes a flag that sets it (a false default, or true for --no-<key>), and a
// string or null default takes the string. The one argument that is not an option goes to `positional`.
export function parseOptions(argv, defaults, positional) {
  const options = { ...defaults };
  const key = (arg) => arg.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      options[positional] = arg;
      continue;
    }
    const negated = arg.startsWith('--no-') && typeof defaults[key('--' + arg.slice(5))] === 'boolean';
    const name = negated ? key('--' + arg.slice(5)) : key(arg);
    if (!(name in defaults) || name === positional) throw new Error(`unknown option ${arg}`);
    if (typeof defaults[name] === 'boolean') {
      options[name] = !negated;
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
    const value = argv[++i];
    if (typeof defaults[name] === 'number') {
      options[name] = Number.parseInt(value, 10);
      if (!Number.isInteger(options[name])) throw new Error(`${arg} takes a whole number, not ${value}`);
    } else {
      options[name] = value;
    }
  }
  return options;
}
