import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  deliveryEntryName,
  deliveryLogPrefix,
  type DeliveryAttempt,
  type DeliveryLog,
} from '../../ports/delivery-log.ts';

/**
 * DeliveryLog under the local data folder: one file per attempt in
 * `{root}/webhooks/{tenant}/{jobId}/deliveries/`, written to a temporary name and renamed, so a
 * reader never sees half an entry and two dispatchers never write the same file.
 */
export class FsDeliveryLog implements DeliveryLog {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async append(tenant: string, jobId: string, attempt: DeliveryAttempt): Promise<void> {
    const dir = join(this.#root, deliveryLogPrefix(tenant, jobId));
    await mkdir(dir, { recursive: true });
    const name = deliveryEntryName(attempt, randomBytes(4).toString('hex'));
    const temp = join(dir, `.${name}.tmp`);
    await writeFile(temp, JSON.stringify(attempt));
    await rename(temp, join(dir, name));
  }

  async list(tenant: string, jobId: string): Promise<DeliveryAttempt[]> {
    const dir = join(this.#root, deliveryLogPrefix(tenant, jobId));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    return Promise.all(
      entries.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as DeliveryAttempt),
    );
  }
}
