import {
  MalformedFormError,
  MalformedJsonError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts';
import { readLimitedBytes } from '../middleware/json-body.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const FORM_TYPE = /^(?:multipart\/form-data|application\/x-www-form-urlencoded)\s*(?:;.*)?$/i;

export type FieldValue = string | File | { [key: string]: FieldValue };
export type Fields = Record<string, FieldValue>;

/**
 * `a[b][c]` → { a: { b: { c } } }: how the OpenAI SDKs write nested values (`video[id]`,
 * `input_reference[image_url]`) into a multipart body. A later value of a name replaces an
 * earlier one.
 */
function nest(form: FormData): Fields {
  const fields: Fields = {};
  for (const [name, value] of form.entries()) {
    const [head = name, ...rest] = name.split(/\[|\]\[|\]$/).filter((part, i) => i === 0 || part);
    let node = fields;
    const path = [head, ...rest];
    for (const [i, key] of path.entries()) {
      if (i === path.length - 1) {
        // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- FormData's File is the runtime's global File
        node[key] = value;
      } else {
        const next = node[key];
        if (typeof next !== 'object' || next instanceof File) node[key] = {};
        node = node[key] as Fields;
      }
    }
  }
  return fields;
}

/**
 * The body of the OpenAI routes that take files (videos: multipart/form-data, as the SDKs send
 * it) or JSON, at most `maxBytes` (413 above, as for JSON routes), as one field map.
 */
export async function readFields(request: Request, maxBytes: number): Promise<Fields> {
  const type = request.headers.get('content-type') ?? '';
  const json = JSON_TYPE.test(type);
  if (!json && !FORM_TYPE.test(type)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be multipart/form-data or application/json${type ? `, got ${type.split(';')[0] ?? type}` : ''}`,
    );
  }
  const bytes = await readLimitedBytes(request, maxBytes);
  if (json) {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (error) {
      throw new MalformedJsonError(`the body is not valid JSON: ${(error as Error).message}`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw ValidationError.field('', 'the body must be a JSON object', 'an object');
    }
    return value as Fields;
  }
  try {
    const request = new Request('http://body.invalid/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: bytes,
    });
    // Buffered parsing is fine here: the body is already read and capped at maxBytes.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    return nest(await request.formData());
  } catch (error) {
    throw new MalformedFormError(`the body is not a valid form: ${(error as Error).message}`);
  }
}
