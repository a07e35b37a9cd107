/**
 * The few CloudFormation and SSM calls the rehearsal makes, over moto_server's HTTP API. The
 * project installs only the S3 and SQS SDK clients, and moto does not check signatures: it routes
 * a request by the service named in the Authorization header's credential scope, so that is all
 * these calls carry. The wire formats are AWS's (the Query protocol for CloudFormation, JSON 1.1
 * for SSM), so a real SDK client could replace this file without touching the tests.
 */

const authorization = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;

/** One CloudFormation Query call; the XML answer, or an Error with AWS's message. */
export async function cloudFormation(
  endpoint: string,
  action: string,
  params: Record<string, string>,
): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2010-05-15', ...params });
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: authorization('cloudformation'),
    },
    body,
  });
  const text = await response.text();
  if (!response.ok) {
    const message = /<Message>([\s\S]*?)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 500);
    throw new Error(`${action}: ${response.status} ${decodeXml(message)}`);
  }
  return text;
}

/** One SSM JSON call. */
export async function ssm(endpoint: string, operation: string, input: object): Promise<unknown> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonSSM.${operation}`,
      authorization: authorization('ssm'),
    },
    body: JSON.stringify(input),
  });
  const answer = (await response.json()) as { __type?: string; message?: string };
  if (!response.ok)
    throw new Error(`${operation}: ${answer.__type ?? response.status} ${answer.message ?? ''}`);
  return answer;
}

export function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&');
}

/** The text of `<tag>` inside each `<member>` element of an XML answer. */
export function members(xml: string): Record<string, string>[] {
  return [...xml.matchAll(/<member>([\s\S]*?)<\/member>/g)].map(([, inner]) =>
    Object.fromEntries(
      [...(inner ?? '').matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map(([, k, v]) => [
        k ?? '',
        decodeXml(v ?? ''),
      ]),
    ),
  );
}

export const tagText = (xml: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1] === undefined ? undefined : decodeXml(m[1]);
};
