/** Structured JSON logs: one object per line (Powertools Logger on Lambda has the same shape). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(
  service: string,
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      write(
        JSON.stringify({
          level,
          message,
          service,
          timestamp: new Date().toISOString(),
          ...fields,
        }) + '\n',
      );
    };
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

const ignore = (): void => undefined;
export const silentLogger: Logger = { info: ignore, warn: ignore, error: ignore };
