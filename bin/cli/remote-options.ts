/** The options of every command that talks to a running ditserve, for parseArgs. */
export const REMOTE_OPTIONS = {
  'base-url': { type: 'string' },
  'api-key': { type: 'string' },
} as const;

/** The --help lines of those options (docs/settings.md has the variables too). */
export const REMOTE_HELP = `      --base-url <url>     a running ditserve to work with (DITSERVE_BASE_URL)
      --api-key <key>      its API key (DITSERVE_API_KEY; any string in the open local mode)`;
