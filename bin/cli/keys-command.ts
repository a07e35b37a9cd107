import { parseArgs } from 'node:util';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { foreignEnv, read } from '../../core/config.ts';
import { SETTINGS } from '../../core/settings.ts';
import { FsKeyStore } from '../../core/adapters/local/fs-key-store.ts';
import type { KeyStore } from '../../core/ports/key-store.ts';
import { UsageError } from '../../core/config.ts';

export const KEYS_HELP = `Usage: ditserve keys <create|list|revoke> [options]

  keys create --tenant <name> [--name <label>]   prints the new key once (it is stored only as a hash)
  keys list [--tenant <name>]                    ids, tenants, labels, created/revoked (never secrets)
  keys revoke <id>                               the key stops working within 30 s

Options:
  -d, --data-dir <dir>   the local data folder (DITSERVE_DATA_DIR, default ./data)
      --backend <kind>   local | aws (DITSERVE_BACKEND, default local)
      --bucket <name>    with --backend aws: the stack's bucket (DITSERVE_BUCKET; AWS credentials
                         and region from the usual AWS environment / profile)
      --json             machine-readable output
`;

async function keyStoreFor(
  v: { 'data-dir'?: string | undefined; backend?: string | undefined; bucket?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<KeyStore> {
  const backend = read(env, SETTINGS.backend, v.backend);
  if (backend === 'aws') {
    const { s3Client } = await import('../../core/backend/aws-clients.ts');
    const { S3KeyStore } = await import('../../core/adapters/aws/s3-key-store.ts');
    const bucket = read(env, SETTINGS.bucket, v.bucket);
    return new S3KeyStore({ client: s3Client(foreignEnv(env, 'AWS_ENDPOINT_URL')), bucket });
  }
  if (backend !== 'local') throw new UsageError(`--backend must be local or aws, got "${backend}"`);
  return new FsKeyStore({
    root: read(env, SETTINGS.dataDir, v['data-dir']),
  });
}

const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

/** `ditserve keys …` against the local key store (the AWS deployment: see docs/deploy.md). */
export async function keysCommand(
  argv: readonly string[],
  env = process.env,
  store?: KeyStore,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        name: { type: 'string' },
        'data-dir': { type: 'string', short: 'd' },
        backend: { type: 'string' },
        bucket: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (try: ditserve keys --help)`);
  }
  const { values: v, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (v.help || action === undefined) {
    process.stdout.write(KEYS_HELP);
    return v.help ? 0 : 2;
  }
  const keys = store ?? (await keyStoreFor(v, env));
  const out = (value: unknown, text: string) =>
    process.stdout.write(v.json ? `${JSON.stringify(value)}\n` : text);
  switch (action) {
    case 'create': {
      if (!v.tenant || !TENANT.test(v.tenant)) {
        throw new UsageError(
          'keys create needs --tenant <name> (letters, digits, _ and -, at most 64)',
        );
      }
      const { record, key } = await issueApiKey(
        keys,
        v.tenant,
        v.name ?? 'created by ditserve keys',
      );
      out(
        { id: record.id, tenant: record.tenant, name: record.name, key },
        `${key}\n\nKey ${record.id} for tenant "${record.tenant}". Store it now: it cannot be shown again.\n`,
      );
      return 0;
    }
    case 'list': {
      const list = await keys.listKeys(v.tenant);
      const rows = list.map((k) => ({
        id: k.id,
        tenant: k.tenant,
        name: k.name,
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
      }));
      out(
        rows,
        rows.length === 0
          ? 'no keys\n'
          : rows
              .map(
                (r) =>
                  `${r.id}  ${r.tenant}  ${r.name}  ${r.created_at}${r.revoked_at ? `  revoked ${r.revoked_at}` : ''}`,
              )
              .join('\n') + '\n',
      );
      return 0;
    }
    case 'revoke': {
      const [id] = rest;
      if (!id) throw new UsageError('keys revoke needs the key id (see ditserve keys list)');
      await keys.revokeKey(id, new Date());
      out({ id, revoked: true }, `revoked ${id}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown keys action "${action}" (create, list or revoke)`);
  }
}
