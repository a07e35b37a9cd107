/* global document, localStorage, navigator, AbortController */
import { Api, ApiProblem, TERMINAL } from './api.js';
import { curlCommand } from './curl.js';
import { clearErrors, requestBody, showModels, showProblem } from './form.js';

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'ditserve.apiKey';
// Any seed up to 2^53 works; random ones stay short enough to read out.
const RANDOM_SEEDS = 2 ** 32;

const api = new Api(() => $('api-key').value.trim());
/** The generation being followed, so Cancel knows what to cancel. */
let current;

function setStatus(text, percent) {
  $('status').textContent = text;
  if (percent !== undefined) $('progress').value = percent;
}

/** What one state of a generation looks like in the progress area. */
function showGeneration(generation) {
  const { status, progress, queue_position: position } = generation;
  if (status === 'queued') {
    setStatus(position ? `Queued (position ${position}).` : 'Queued.', 0);
  } else if (status === 'running') {
    if (progress)
      setStatus(`Running: step ${progress.step} of ${progress.total}.`, progress.percent);
    else setStatus('Running.');
  } else if (status === 'succeeded') {
    const ms = generation.timings.inference_ms;
    setStatus(`Succeeded${ms !== undefined ? ` in ${ms} ms` : ''}.`, 100);
  } else if (status === 'failed') {
    setStatus(
      `Failed: ${generation.error?.message ?? 'unknown error'} (${generation.error?.code ?? ''}).`,
    );
  } else {
    setStatus(status === 'canceled' ? 'Canceled.' : 'Expired in the queue.');
  }
}

/** An output's picture: the image, or a video model's clip (its MP4, else its animated WebP). */
function picture(generation, output) {
  const label = `${generation.input.prompt} (seed ${output.seed})`;
  if (output.video?.mp4) {
    const video = document.createElement('video');
    Object.assign(video, {
      src: output.video.mp4.url,
      muted: true,
      loop: true,
      autoplay: true,
      controls: true,
      playsInline: true,
    });
    video.width = output.width;
    video.height = output.height;
    video.setAttribute('aria-label', label);
    return video;
  }
  const img = document.createElement('img');
  img.src = output.video?.webp?.url ?? output.url;
  img.width = output.width;
  img.height = output.height;
  img.alt = label;
  return img;
}

/** Puts a finished generation's images or clips first in the grid, each with its seed. */
function showImages(generation) {
  const items = generation.outputs.map((output) => {
    const item = document.createElement('li');
    item.className = 'image';
    const figure = document.createElement('figure');
    const img = picture(generation, output);
    const caption = document.createElement('figcaption');
    const seed = document.createElement('span');
    seed.className = 'seed';
    seed.textContent = `Seed ${output.seed}`;
    const reuse = document.createElement('button');
    reuse.type = 'button';
    reuse.className = 'reuse-seed';
    reuse.dataset.seed = String(output.seed);
    reuse.textContent = 'Reuse seed';
    reuse.setAttribute('aria-label', `Reuse seed ${output.seed}`);
    const link = document.createElement('a');
    link.href = output.url;
    link.textContent = 'Open';
    link.target = '_blank';
    link.rel = 'noopener';
    caption.append(seed, ' ', reuse, ' ', link);
    figure.append(img, caption);
    item.append(figure);
    return item;
  });
  $('grid').prepend(...items);
}

function reuseSeed(seed) {
  $('seed').value = seed;
  // One image: output i of a request has seed + i, so the same seed alone remakes this image.
  $('num_images').value = '1';
  $('seed').focus();
  setStatus(`Seed ${seed} set; Generate makes the same image again.`);
}

function busy(on) {
  $('submit').disabled = on;
  $('cancel').hidden = !on;
  $('generate').setAttribute('aria-busy', String(on));
}

async function generate() {
  clearErrors();
  const body = requestBody();
  $('curl').textContent = curlCommand(api, body, api.key() !== '');
  busy(true);
  setStatus('Submitting…', 0);
  const abort = new AbortController();
  try {
    const created = await api.request('POST', 'v1/generations', body);
    current = { id: created.id, abort };
    showGeneration(created);
    const done = TERMINAL.has(created.status)
      ? created
      : await api.follow(created.id, showGeneration, abort.signal);
    if (done.status === 'succeeded') showImages(done);
  } catch (error) {
    if (error instanceof ApiProblem) {
      showProblem(error);
      setStatus(`Refused: ${error.message}`);
    } else if (!abort.signal.aborted) {
      setStatus(`Could not reach the API: ${String(error)}`);
    }
  } finally {
    current = undefined;
    busy(false);
  }
}

async function cancel() {
  if (!current) return;
  try {
    const generation = await api.request('POST', `v1/generations/${current.id}/cancel`);
    showGeneration(generation);
    if (TERMINAL.has(generation.status)) current.abort.abort();
  } catch (error) {
    setStatus(`Cancel failed: ${error.message}`);
  }
}

async function copyCurl() {
  const text = curlCommand(api, requestBody(), api.key() !== '');
  $('curl').textContent = text;
  $('curl-details').open = true;
  try {
    await navigator.clipboard.writeText(text);
    $('curl-copied').textContent = 'Copied to the clipboard.';
  } catch {
    $('curl-copied').textContent = 'The clipboard is not available here: select the command above.';
  }
}

async function loadModels() {
  try {
    const { data } = await api.request('GET', 'v1/models');
    showModels(data);
    clearErrors();
  } catch (error) {
    if (error instanceof ApiProblem) showProblem(error);
    else setStatus(`Could not reach the API: ${String(error)}`);
  }
}

function start() {
  const key = $('api-key');
  key.value = localStorage.getItem(KEY_STORAGE) ?? '';
  key.addEventListener('change', () => {
    if (key.value.trim()) localStorage.setItem(KEY_STORAGE, key.value.trim());
    else localStorage.removeItem(KEY_STORAGE);
    void loadModels();
  });
  $('generate').addEventListener('submit', (event) => {
    event.preventDefault();
    void generate();
  });
  $('prompt').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $('generate').requestSubmit();
    }
  });
  $('cancel').addEventListener('click', () => void cancel());
  $('copy-curl').addEventListener('click', () => void copyCurl());
  $('random-seed').addEventListener('click', () => {
    $('seed').value = String(Math.floor(Math.random() * RANDOM_SEEDS));
  });
  $('grid').addEventListener('click', (event) => {
    const button = event.target.closest('button.reuse-seed');
    if (button) reuseSeed(button.dataset.seed);
  });
  void loadModels();
}

start();
