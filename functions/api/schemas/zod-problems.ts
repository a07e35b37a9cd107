import type { z } from '@hono/zod-openapi';
import type { FieldProblem } from '../errors.ts';

type Issue = z.core.$ZodIssue;

function fieldName(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
    .join('');
}

/** The keys an object schema at `path` accepts, looking through optional/nullable wrappers. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let node: unknown = schema;
  const unwrap = () => {
    while (
      node &&
      typeof node === 'object' &&
      'unwrap' in node &&
      typeof node.unwrap === 'function'
    ) {
      node = (node.unwrap as () => unknown).call(node);
    }
  };
  unwrap();
  for (const key of path) {
    const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
    node = shape?.[String(key)];
    unwrap();
  }
  const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : undefined;
}

function range(issue: Issue): string | undefined {
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    const bound = issue.code === 'too_big' ? issue.maximum : issue.minimum;
    const word = issue.code === 'too_big' ? 'at most' : 'at least';
    const unit =
      issue.origin === 'string'
        ? ' characters'
        : issue.origin === 'array' || issue.origin === 'set'
          ? ' items'
          : issue.origin === 'object'
            ? ' entries'
            : '';
    const exclusive = issue.inclusive === false ? ' (exclusive)' : '';
    return `${word} ${String(bound)}${unit}${exclusive}`;
  }
  return undefined;
}

/** Turns zod's issues into our per-field problems, each saying what would be accepted. */
export function fieldProblems(
  error: z.ZodError,
  schema: z.ZodType | undefined,
  prefix = '',
): FieldProblem[] {
  const at = (path: readonly PropertyKey[]) =>
    [prefix, fieldName(path)].filter(Boolean).join(prefix && path.length ? '.' : '');
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = schema ? knownKeys(schema, issue.path) : undefined;
        for (const key of issue.keys) {
          problems.push({
            field: at([...issue.path, key]),
            message: 'is not a known field',
            allowed: known ? `known fields: ${known.join(', ')}` : undefined,
          });
        }
        break;
      }
      case 'invalid_value':
        problems.push({
          field: at(issue.path),
          message: issue.message,
          allowed: `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'invalid_type':
        problems.push({
          field: at(issue.path),
          message: issue.message.endsWith('received undefined')
            ? 'is required'
            : `must be ${issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}`,
          allowed: issue.expected === 'int' ? 'an integer' : issue.expected,
        });
        break;
      case 'invalid_format':
        problems.push({
          field: at(issue.path),
          message: issue.message,
          allowed: `a valid ${issue.format}`,
        });
        break;
      case 'custom': {
        // Refinements say what they accept through params.allowed.
        const allowed: unknown = issue.params?.allowed;
        problems.push({
          field: at(issue.path),
          message: issue.message,
          allowed: typeof allowed === 'string' ? allowed : undefined,
        });
        break;
      }
      default:
        problems.push({ field: at(issue.path), message: issue.message, allowed: range(issue) });
    }
  }
  return problems;
}
