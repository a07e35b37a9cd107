/* global document, Option */
// The form's controls, the request body they make, and the API's field errors shown beside
// the control they are about.

const $ = (id) => document.getElementById(id);

/** API field names → the control that sets them (width and height both come from Size). */
const CONTROL_OF = {
  prompt: 'prompt',
  negative_prompt: 'negative_prompt',
  model: 'model',
  width: 'size',
  height: 'size',
  aspect_ratio: 'size',
  steps: 'steps',
  guidance_scale: 'guidance_scale',
  seed: 'seed',
  num_images: 'num_images',
  frames: 'frames',
};

/** Fills Model from GET /v1/models and keeps the other controls within the chosen model's limits. */
export function showModels(models) {
  const select = $('model');
  select.replaceChildren(...models.map((m) => new Option(`${m.id} (${m.version})`, m.id)));
  select.onchange = () => applyModel(models.find((m) => m.id === select.value));
  applyModel(models[0]);
}

function applyModel(model) {
  if (!model) return;
  $('model-help').textContent = model.description;
  const ratioOf = Object.fromEntries(Object.entries(model.aspect_ratios).map(([r, s]) => [s, r]));
  const size = $('size');
  const wanted = `${model.defaults.width}x${model.defaults.height}`;
  size.replaceChildren(
    ...model.sizes.map(
      (s) => new Option(ratioOf[s] ? `${s} (${ratioOf[s]})` : s, s, s === wanted, s === wanted),
    ),
  );
  const { steps, guidance_scale: guidance, num_images: images } = model.limits;
  setNumber(
    'steps',
    model.defaults.steps,
    `${steps.min}–${steps.max}, default ${model.defaults.steps}.`,
  );
  setNumber(
    'guidance_scale',
    model.defaults.guidance_scale,
    `${guidance.min}–${guidance.max}, default ${model.defaults.guidance_scale}.`,
  );
  setNumber('num_images', 1, `1–${images.max}.`);
  // A video model's clip length; the row is hidden (and the field not sent) for image models.
  const video = model.video;
  $('video-row').hidden = !video;
  if (video) {
    const { min, max, multiple_of: multiple } = video.frames;
    const every = multiple > 1 ? `, a multiple of ${multiple}` : '';
    setNumber(
      'frames',
      model.defaults.frames,
      `${min}–${max}${every}, default ${model.defaults.frames} (${video.fps} fps).`,
    );
  }
}

function setNumber(id, value, help) {
  $(id).value = String(value);
  $(`${id}-help`).textContent = help;
}

/** The POST /v1/generations body the form stands for; empty optional fields are left out. */
export function requestBody() {
  const body = { prompt: $('prompt').value };
  const negative = $('negative_prompt').value;
  if (negative) body.negative_prompt = negative;
  if ($('model').value) body.model = $('model').value;
  const [width, height] = $('size').value.split('x').map(Number);
  if (width && height) Object.assign(body, { width, height });
  const fields = ['steps', 'guidance_scale', 'seed', 'num_images'];
  if (!$('video-row').hidden) fields.push('frames');
  for (const id of fields) {
    const raw = $(id).value.trim();
    // Sent as typed (a number when it reads as one), so the API, not the page, says what is wrong.
    if (raw !== '') body[id] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return body;
}

export function clearErrors() {
  for (const element of document.querySelectorAll('.field-error, #form-error')) {
    element.hidden = true;
    element.textContent = '';
  }
  for (const element of document.querySelectorAll('[aria-invalid]')) {
    element.removeAttribute('aria-invalid');
  }
}

/**
 * Shows a problem+json answer: each field error beside its control (with what is allowed),
 * the rest above the buttons. Focus goes to the first control in error.
 */
export function showProblem(problem) {
  clearErrors();
  let first;
  const loose = [];
  for (const error of problem.errors) {
    const id = CONTROL_OF[error.field];
    if (!id) {
      loose.push(`${error.field}: ${error.message}`);
      continue;
    }
    const message = error.allowed ? `${error.message} (allowed: ${error.allowed})` : error.message;
    fieldError(id, message);
    first ??= id;
  }
  if (problem.status === 401) {
    fieldError('api-key', problem.message);
    first ??= 'api-key';
  } else if (!first || loose.length > 0) {
    const text = loose.length > 0 ? loose.join('; ') : problem.message;
    const box = $('form-error');
    box.textContent = `${text} (${problem.code})`;
    box.hidden = false;
  }
  if (first) $(first).focus();
}

function fieldError(id, message) {
  const box = $(`${id}-error`);
  box.textContent = box.textContent ? `${box.textContent} ${message}` : message;
  box.hidden = false;
  $(id).setAttribute('aria-invalid', 'true');
}
