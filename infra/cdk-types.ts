/**
 * An aws-cdk-lib resource as one of its own interfaces. Some classes declare `prop: T | undefined`
 * where the interface has `prop?: T`; under this repository's `exactOptionalPropertyTypes` the
 * compiler then rejects passing e.g. a `Vpc` where an `IVpc` is expected, although it is one.
 */
export function cdkInterface<T>(resource: T | object): T {
  return resource as T;
}
