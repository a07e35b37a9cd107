/**
 * The end of a stack child process (api-process.ts, the security load's load-api.ts): it says
 * where it listens in the one JSON line its parent waits for (`api_listening`), serves until
 * SIGTERM or SIGINT, then stops the stack and exits.
 */
export async function serveUntilSignal(stack: {
  readonly url: string;
  stop(drainTimeoutMs?: number): Promise<void>;
}): Promise<never> {
  process.stdout.write(`${JSON.stringify({ type: 'api_listening', url: stack.url })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => {
      resolve();
    });
    process.once('SIGINT', () => {
      resolve();
    });
  });
  await stack.stop(2000);
  process.exit(0);
}
