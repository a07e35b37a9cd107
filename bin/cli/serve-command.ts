/** `ditserve serve`: a placeholder until the HTTP API lands (a later issue replaces this file). */
export function serveCommand(): number {
  process.stderr.write(
    'ditserve serve: the HTTP API is not built yet. For now, generate images with\n' +
      '  npx ditserve generate "a red circle left of a blue square" -o out.png\n',
  );
  return 2;
}
