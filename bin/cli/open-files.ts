import { spawn } from 'node:child_process';

/** The desktop's "open this file" command on each platform. */
function opener(): { command: string; args: string[] } {
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  return { command: 'xdg-open', args: [] };
}

/**
 * `--open`: hands each file to the desktop's viewer and does not wait for it. A machine without
 * one (a server, CI) gets a warning, not a failure: the images are already written.
 */
export function openFiles(paths: readonly string[]): void {
  const { command, args } = opener();
  for (const path of paths) {
    const child = spawn(command, [...args, path], { detached: true, stdio: 'ignore' });
    child.on('error', (error) => {
      process.stderr.write(
        `ditserve: warning: could not open ${path} (${command}: ${error.message})\n`,
      );
    });
    child.unref();
  }
}
