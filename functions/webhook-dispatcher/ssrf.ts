import { lookup } from 'node:dns/promises';
import { allowsHost } from '../../core/webhooks/allow-list.ts';
import { classifyAddress } from '../../core/webhooks/ip-ranges.ts';
import {
  checkWebhookUrl,
  refusalForAddress,
  WebhookUrlRefusedError,
  type WebhookUrlPolicy,
} from '../../core/webhooks/url-policy.ts';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name → addresses; injectable so tests can point a hostname anywhere. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A URL that passed every check, with the one address the connection must go to. */
export interface PinnedTarget {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

/** DNS failed (no such name, resolver down): worth retrying, unlike a refusal. */
export class WebhookDnsError extends Error {
  override readonly name = 'WebhookDnsError';
}

/**
 * Checks `url` and resolves its host, refusing it when ANY address it resolves to is refused (a
 * name with one public and one private record is an attack, not a misconfiguration). The caller
 * connects to the returned address only, so a second, rebinding DNS answer is never used.
 */
export async function resolveWebhookTarget(
  url: string,
  policy: WebhookUrlPolicy,
  resolver: Resolver = systemResolver,
): Promise<PinnedTarget> {
  const reason = checkWebhookUrl(url, policy);
  if (reason !== undefined) throw new WebhookUrlRefusedError(reason);
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const literal = classifyAddress(host);
  if (literal.kind !== 'invalid') {
    return { url: parsed, address: host, family: host.includes(':') ? 6 : 4 };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    throw new WebhookDnsError(`cannot resolve ${host}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const first = addresses[0];
  if (!first) throw new WebhookDnsError(`${host} has no addresses`);
  // A name the operator listed may resolve anywhere; any other name only to allowed addresses.
  const vouched = allowsHost(policy.allowList, host.replace(/\.$/, '').toLowerCase());
  for (const { address } of vouched ? [] : addresses) {
    const refusal = refusalForAddress(classifyAddress(address), policy, address);
    if (refusal !== undefined) {
      throw new WebhookUrlRefusedError(`${host} resolves to ${address}: ${refusal}`);
    }
  }
  return { url: parsed, address: first.address, family: first.family };
}
