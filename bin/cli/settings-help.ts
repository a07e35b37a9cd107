import { SETTINGS, type Setting, type SettingName } from '../../core/settings.ts';

function defaultOf(s: Setting): string {
  if (s.default !== undefined) return String(s.default);
  return s.env === SETTINGS.threads.env ? 'all cores' : '—';
}

function rangeOf(s: Setting): string {
  if (s.kind === 'int') return `${s.min}–${s.max}`;
  if (s.kind === 'bool') return 'true | false';
  return s.choices ? s.choices.join(' | ') : 'text';
}

/** `--help` lines for these settings: flag (or variable), what it does, variable, default. */
export function helpLines(
  names: readonly SettingName[],
  short: Partial<Record<string, string>> = {},
) {
  return names
    .map((name) => {
      const s: Setting = SETTINGS[name];
      const flag = s.flag
        ? `${short[s.flag] ? `${short[s.flag]}, ` : '    '}${s.flag}${s.kind === 'bool' ? '' : ' <v>'}`
        : `    ${s.env}`;
      return `  ${flag.padEnd(30)} ${s.description}\n  ${''.padEnd(30)} ${s.flag ? `${s.env}, ` : ''}default ${defaultOf(s)} (${rangeOf(s)})`;
    })
    .join('\n');
}

/** The whole table as Markdown (docs/settings.md). */
export function settingsMarkdown(): string {
  const rows = Object.values(SETTINGS).map((s: Setting) =>
    [
      `\`${s.env}\``,
      s.flag ? `\`${s.flag}\`` : '',
      `\`${defaultOf(s)}\``,
      rangeOf(s),
      s.readBy.join(', '),
      s.description.replace(/\|/g, '\\|'),
    ].join(' | '),
  );
  return [
    '# Settings',
    '',
    'Every setting of every ditserve process. Generated from `core/settings.ts` by',
    '`npm run docs:settings`; a test keeps this page equal to the table. A flag (of `ditserve',
    'serve`) wins over the variable, the variable over the default. `readBy`: `api` (any API',
    'process), `worker` (the worker process, `gpu-worker/src/worker/main.ts`), `serve` (the embedded',
    'default), `lambda` (the API, dispatcher and sweeper Lambdas; the CDK stack sets their values),',
    '`cli` (the client commands: `generate --base-url`, `jobs`, `models`).',
    '',
    '| variable | flag | default | allowed | read by | what |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
    '',
  ].join('\n');
}
