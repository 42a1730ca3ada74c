#!/usr/bin/env node
// Opens the page of `tunelens serve` in headless Chromium and uses it as a listener would, checking each step:
//   - no console errors, uncaught exceptions or error log entries, and no request to any host but the server;
//   - the search box: typing --query and pressing Enter lists the matching tracks, each naming the query;
//   - clicking the first result opens the track view: its title, genre bars, the timeline strip of its windows;
//   - "Sounds like" lists neighbours, each with an <audio> player of /api/tracks/{id}/audio; the first one, played
//     (muted), reports its audio loaded (readyState 2 or more);
//   - a WAV file (--upload) given to the drop zone's file input shows its genres and nearest tracks in #upload,
//     and so does a file dropped on the zone (the first track's audio, named dropped.wav);
//   - with --token: ticking "add it to the catalog" and giving the token adds the same file as a track, opens it,
//     and puts it on the map;
//   - the map draws one circle per track (GET /api/health counts them); hovering one shows its title in #tip;
//     clicking another opens that track, and so does Enter on a focused one (the keyboard);
//   - at a phone's width (--phone-width, 390 px by default) nothing scrolls sideways;
//   - with --screenshot FILE.png: a picture at the desktop width, a track open with its neighbours.
//
//   node check_page.mjs URL --upload FILE.wav [--query TEXT] [--token TOKEN] [--screenshot FILE.png]
//                       [--width 1280] [--height 900] [--phone-width 390] [--chromium PATH]
// Exit status: 0 when every check passes, 1 when one fails, 77 (ctest's "skipped") when Chromium is missing.
// Chromium is driven as devtools.mjs says.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { inChromium, parseOptions, runCheck } from './devtools.mjs';

function parseArguments(argv) {
  const options = parseOptions(argv, { url: null, upload: null, query: 'blues', token: null, screenshot: null,
                                       width: 1280, height: 900, phoneWidth: 390, chromium: null }, 'url');
  if (!options.url || !options.upload) throw new Error('usage: check_page.mjs URL --upload FILE.wav [--query TEXT]');
  options.url = new URL(options.url).href;
  return options;
}

// The first element matching `selector` (and not titled `except`) whose centre the pointer reaches, nothing drawn
// over it there (map circles overlap): scrolled into view, its centre, text, title and track.
const place = (selector, except = null) => `(() => {
  for (const node of document.querySelectorAll(${JSON.stringify(selector)})) {
    if (node.dataset.title !== undefined && node.dataset.title === ${JSON.stringify(except)}) continue;
    node.scrollIntoView({ block: 'center', inline: 'center' });
    const box = node.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (!node.contains(document.elementFromPoint(x, y))) continue;
    return { x, y, text: node.textContent.trim(), title: node.dataset.title ?? null, track: node.dataset.track ?? null };
  }
  return null;
})()`;

// The track view once it shows `title`: its genre bars, the windows of its timeline, and its neighbours' players.
const trackView = (title) => `(() => {
  if (document.getElementById('track-title').textContent !== ${JSON.stringify(title)}) return null;
  const body = document.getElementById('track-body');
  const neighbours = Array.from(body.querySelectorAll('.neighbour'));
  if (neighbours.length === 0 && !body.querySelector('.error')) return null;
  return { bars: body.querySelectorAll('.bar').length, windows: body.querySelectorAll('.timeline i').length,
           error: body.querySelector('.error')?.textContent ?? null, neighbours: neighbours.length,
           players: neighbours.filter((n) => n.querySelector('audio[src$="/audio"]')).length };
})()`;

// Plays the first neighbour's player, muted, and waits for its data (at most 20 s).
const PLAY_NEIGHBOUR = `new Promise((done) => {
  const player = document.querySelector('#track-body .neighbour audio');
  const answer = (how) => done({ how, readyState: player.readyState, duration: player.duration,
                                 error: player.error ? player.error.code + ' ' + player.error.message : null,
                                 src: player.currentSrc });
  player.muted = true;
  player.addEventListener('loadeddata', () => answer('loadeddata'));
  player.addEventListener('error', () => answer('error'));
  setTimeout(() => answer('timeout'), 20000);
  player.play().catch(() => {});
  if (player.readyState >= 2) answer('already loaded');
})`;

const UPLOADED = `(() => {
  const out = document.getElementById('upload');
  const error = out.querySelector('.error');
  if (error) return { error: error.textContent };
  if (out.dataset.done !== '1') return null;
  return { bars: out.querySelectorAll('.bar').length, windows: out.querySelectorAll('.timeline i').length,
           neighbours: out.querySelectorAll('.neighbour').length, heading: out.querySelector('h3')?.textContent };
})()`;

// Drops a file named dropped.wav (the bytes of the first track's audio) on the drop zone, as a file manager would;
// says whether the zone was highlighted while dragged over.
const DROP = `fetch('/api/tracks/1/audio').then((r) => r.blob()).then((blob) => {
  const zone = document.getElementById('drop');
  const data = new DataTransfer();
  data.items.add(new File([blob], 'dropped.wav', { type: 'audio/wav' }));
  zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
  const highlighted = zone.classList.contains('over');
  delete document.getElementById('upload').dataset.done;
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  return highlighted;
})`;

const TIP = `(() => {
  const tip = document.getElementById('tip');
  const box = tip.getBoundingClientRect();
  return { text: tip.textContent, shown: getComputedStyle(tip).display !== 'none' && box.width > 0 };
})()`;

const WIDTHS = `(() => ({ scroll: document.documentElement.scrollWidth, window: innerWidth,
  widest: Array.from(document.querySelectorAll('body *'), (node) => ({ node, right: node.getBoundingClientRect().right }))
    .filter(({ node }) => getComputedStyle(node).position !== 'fixed')
    .reduce((w, { node, right }) => (right > w.right ? { right, what: node.id || node.getAttribute('class') || node.tagName } : w),
            { right: 0, what: '' }) }))()`;

async function press(tab, key) {
  const code = { Enter: 13 }[key];
  await tab.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code: key, windowsVirtualKeyCode: code,
                                             text: key === 'Enter' ? '\r' : key });
  await tab.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: key, windowsVirtualKeyCode: code });
}

// Gives `file` to the page's file input #file, as choosing it in the drop zone does.
async function chooseFile(tab, file) {
  const { root } = await tab.send('DOM.getDocument');
  const { nodeId } = await tab.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#file' });
  if (!nodeId) throw new Error('no file input #file in the drop zone');
  await tab.send('DOM.setFileInputFiles', { nodeId, files: [resolve(file)] });
}

// Opens a track from the map, one whose circle is not the open track's: by clicking its circle or, with `key`, by
// focusing the circle and pressing that key. Checks the track view then shows it.
async function openFromMap(tab, failures, report, key) {
  const open = await tab.evaluate(`document.getElementById('track-title').textContent`);
  const dot = await tab.evaluate(place('#map circle', open));
  if (!dot) {
    failures.push(`no map circle in sight but that of the open track "${open}"`);
    return;
  }
  if (key) {
    await tab.evaluate(`document.querySelector('#map circle[data-track="${dot.track}"]').focus()`);
    await press(tab, key);
  } else {
    await tab.settle();
    await tab.click(dot.x, dot.y);
  }
  const how = key ? `${key} on the focused map circle of` : 'clicking the map circle of';
  const view = await tab.waitFor(trackView(dot.title), 30, `${how} "${dot.title}" to open it`).catch(() => null);
  if (!view) failures.push(`${how} "${dot.title}" did not open that track`);
  else report.push(`map: ${how} "${dot.title}" opens it`);
}

async function usePage(tab, failures, options) {
  const report = [];
  await tab.send('DOM.enable');
  await tab.navigate(options.url);
  const health = await tab.evaluate(`fetch('/api/health').then((r) => r.json())`);
  let tracks = health.tracks;
  await tab.waitFor(`document.querySelectorAll('#map circle').length > 0 || document.querySelector('#map-note.error')`,
                    30, 'the catalog map to be drawn');
  const listed = await tab.waitFor(`document.querySelectorAll('#results li').length`, 30, 'the first tracks listed');
  report.push(`${options.url}: ${tracks} tracks; ${listed} listed at first`);

  // Search by keyboard: the query typed into the box, Enter.
  await tab.evaluate(`document.getElementById('q').focus()`);
  await tab.send('Input.insertText', { text: options.query });
  await press(tab, 'Enter');
  const query = JSON.stringify(options.query);
  const found = await tab.waitFor(`document.getElementById('status').textContent.includes(${query})
    && Array.from(document.querySelectorAll('#results li'), (li) => li.textContent)`, 30,
                                  `the tracks matching "${options.query}"`);
  if (found.length === 0) throw new Error(`searching "${options.query}" listed no track`);
  const strangers = found.filter((text) => !text.toLowerCase().includes(options.query.toLowerCase()));
  if (strangers.length > 0) failures.push(`searching "${options.query}" listed "${strangers[0]}", which does not name it`);
  report.push(`search "${options.query}": ${found.length} tracks`);

  // The first result opened: genres, timeline, neighbours with players.
  const first = await tab.evaluate(place('#results li a'));
  await tab.click(first.x, first.y);
  const view = await tab.waitFor(trackView(first.text), 60, `the track view of "${first.text}"`);
  if (view.bars === 0) failures.push(`the track view of "${first.text}" shows no genre bars`);
  if (view.windows === 0) failures.push(`the track view of "${first.text}" shows no timeline`);
  if (view.error) failures.push(`the track view of "${first.text}" says: ${view.error}`);
  if (view.neighbours === 0 || view.players !== view.neighbours)
    failures.push(`"Sounds like" shows ${view.neighbours} neighbours, ${view.players} of them with a player`);
  report.push(`track "${first.text}": ${view.bars} genre bars, ${view.windows} windows, ${view.neighbours} neighbours`);
  if (view.neighbours > 0) {
    const played = await tab.evaluate(PLAY_NEIGHBOUR);
    if (played.readyState < 2)
      failures.push(`the first neighbour's audio did not load (${played.how}, readyState ${played.readyState}`
                    + `${played.error ? ', error ' + played.error : ''}): ${played.src}`);
    else report.push(`neighbour audio: ${played.how}, readyState ${played.readyState}, ${played.duration.toFixed(1)} s`);
  }

  // A file given to the drop zone: its genres and nearest tracks.
  await chooseFile(tab, options.upload);
  const uploaded = await tab.waitFor(UPLOADED, 60, `the genres of ${options.upload}`);
  if (uploaded.error) failures.push(`uploading ${options.upload}: ${uploaded.error}`);
  else if (uploaded.bars === 0 || uploaded.windows === 0 || uploaded.neighbours === 0)
    failures.push(`the upload shows ${uploaded.bars} genre bars, ${uploaded.windows} windows, ${uploaded.neighbours} neighbours`);
  else report.push(`upload: "${uploaded.heading}", ${uploaded.bars} genre bars, ${uploaded.neighbours} neighbours`);
  if (!await tab.evaluate(DROP)) failures.push('dragging a file over the drop zone does not highlight it');
  const dropped = await tab.waitFor(UPLOADED, 60, 'the genres of a file dropped on the drop zone');
  if (dropped.error || dropped.bars === 0 || !dropped.heading?.startsWith('dropped.wav'))
    failures.push(`a file dropped on the drop zone shows "${dropped.error ?? dropped.heading}", ${dropped.bars} genre bars`);
  else report.push(`drop: "${dropped.heading}", ${dropped.bars} genre bars`);

  // With the token, the same file added to the catalog: the page opens the new track and maps it.
  if (options.token) {
    await tab.evaluate(`document.getElementById('add').click()`);
    if (await tab.evaluate(`document.getElementById('token').hidden`)) failures.push('ticking "add" did not show the token field');
    await tab.evaluate(`document.getElementById('token').focus()`);
    await tab.send('Input.insertText', { text: options.token });
    // Chosen again: the page must take the same file a second time.
    await tab.evaluate(`delete document.getElementById('upload').dataset.done`);
    await chooseFile(tab, options.upload);
    const added = await tab.waitFor(`(() => {
      const out = document.getElementById('upload');
      return out.dataset.done === '1' || out.querySelector('.error') ? out.textContent : null; })()`, 60,
                                    `${options.upload} to be added`);
    const id = added.match(/Added as track (\d+)/);
    if (!id) {
      failures.push(`adding ${options.upload} with the token: "${added}"`);
    } else {
      ++tracks;
      const circle = await tab.waitFor(`document.querySelectorAll('#map circle').length === ${tracks}
        && document.querySelector('#map circle[data-track="${id[1]}"]')?.dataset.title`, 30, `track ${id[1]} on the map`)
        .catch(() => null);
      if (!circle) failures.push(`the added track ${id[1]} is not on the map`);
      else if (!await tab.waitFor(trackView(circle), 60, `the added track "${circle}"`).catch(() => null))
        failures.push(`adding ${options.upload} did not open track ${id[1]}`);
      else report.push(`add with the token: track ${id[1]} "${circle}", opened and on the map`);
    }
  }

  // The map: a circle per track, a name on hover, a click or Enter opens.
  const circles = await tab.evaluate(`document.querySelectorAll('#map circle').length`);
  if (circles !== tracks) failures.push(`the map draws ${circles} circles for ${tracks} tracks`);
  const dot = await tab.evaluate(place('#map circle'));
  if (!dot) throw new Error('no map circle in sight');
  await tab.settle();
  await tab.hover(dot.x, dot.y);
  const tip = await tab.evaluate(TIP);
  if (!tip.shown) failures.push(`hovering the map circle of "${dot.title}" shows no #tip`);
  else if (!tip.text.startsWith(dot.title)) failures.push(`hovering "${dot.title}" on the map shows "${tip.text}"`);
  else report.push(`map: ${circles} circles; hover shows "${tip.text}"`);
  await openFromMap(tab, failures, report, null);
  await openFromMap(tab, failures, report, 'Enter');

  // The picture: the first result's track again, with its neighbours, at the top of the page.
  if (options.screenshot) {
    const again = await tab.evaluate(place('#results li a'));
    await tab.click(again.x, again.y);
    await tab.waitFor(trackView(first.text), 60, `the track view of "${first.text}"`);
    await tab.evaluate('scrollTo(0, 0)');
    await tab.settle();
    await tab.screenshot(options.screenshot);
    report.push(`screenshot: ${options.screenshot}`);
  }

  // A phone: nothing wider than the window.
  await tab.resize(options.phoneWidth, 844, true);
  await tab.settle();
  const widths = await tab.evaluate(WIDTHS);
  // A phone widens the window to what the page needs (and shrinks the page to fit): both are compared with its width.
  const widest = Math.max(widths.scroll, widths.window);
  if (widest > options.phoneWidth)
    failures.push(`at ${options.phoneWidth} px the page is ${widest} px wide (widest: ${widths.widest.what}, `
                  + `right edge at ${Math.round(widths.widest.right)} px)`);
  else report.push(`phone: ${options.phoneWidth} px wide, nothing scrolls sideways`);
  console.log(report.join('\n  '));
}

function check(options, chromium) {
  const server = new URL(options.url).origin + '/';
  return inChromium(chromium, {
    width: options.width, height: options.height, allowed: (url) => url.startsWith(server),
    flags: ['--autoplay-policy=no-user-gesture-required'],
  }, (tab, failures) => usePage(tab, failures, options));
}

await runCheck('check_page', parseArguments, (options) => options.url, async (options, chromium) => {
  if (!existsSync(options.upload)) return [`${options.upload}: no such file`];
  return check(options, chromium);
});
