/**
 * Stack props are checked when the construct is built, so `cdk synth` fails with the prop's
 * name and the allowed range instead of a CloudFormation error at deploy time.
 */
export function requireWholeNumber(
  name: string,
  value: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
  why = '',
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = Number.isFinite(max) ? `in [${min}, ${max}]` : `≥ ${min}`;
    throw new Error(
      `${name} must be a whole number ${range}${why ? ` (${why})` : ''}, got ${value}`,
    );
  }
}
