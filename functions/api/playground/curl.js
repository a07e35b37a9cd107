// "Copy as curl": the request the form would send, runnable in a shell. The key itself is not
// copied: the command reads it from $DITSERVE_API_KEY.

const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

export function curlCommand(api, body, withKey) {
  const lines = [
    `curl -sS -X POST ${quote(api.url('v1/generations'))}`,
    `  -H 'content-type: application/json'`,
  ];
  if (withKey) lines.push(`  -H "authorization: Bearer $DITSERVE_API_KEY"`);
  lines.push(`  -d ${quote(JSON.stringify(body))}`);
  return lines.join(' \\\n');
}
