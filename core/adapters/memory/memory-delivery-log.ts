import type { DeliveryAttempt, DeliveryLog } from '../../ports/delivery-log.ts';

/** DeliveryLog in process memory: for tests and single-process runs. */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly #entries = new Map<string, DeliveryAttempt[]>();

  append(tenant: string, jobId: string, attempt: DeliveryAttempt): Promise<void> {
    const key = `${tenant}/${jobId}`;
    const list = this.#entries.get(key) ?? [];
    list.push(structuredClone(attempt));
    this.#entries.set(key, list);
    return Promise.resolve();
  }

  list(tenant: string, jobId: string): Promise<DeliveryAttempt[]> {
    const list = this.#entries.get(`${tenant}/${jobId}`) ?? [];
    // Same order as the storage adapters: by time, then attempt number.
    const sorted = [...list].sort(
      (a, b) => Date.parse(a.at) - Date.parse(b.at) || a.attempt - b.attempt,
    );
    return Promise.resolve(structuredClone(sorted));
  }
}
