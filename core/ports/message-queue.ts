/**
 * An at-least-once queue with visibility timeouts (SQS semantics). The jobs queue and the webhook
 * outbox are both MessageQueues: a received message stays invisible for the visibility timeout,
 * then comes back unless it was deleted; `receiveCount` grows with every delivery, and after
 * `maxReceives` the adapter moves the message to its dead-letter queue.
 */
export interface Delivery<T> {
  readonly body: T;
  /** Opaque handle for extend/release/delete of this delivery. */
  readonly receipt: string;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
}

export interface SendOptions {
  /** Deliver no earlier than this many seconds from now (0–900, as SQS). */
  readonly delaySeconds?: number | undefined;
}

export interface ReceiveOptions {
  /** 1–10 (an SQS batch). */
  readonly maxMessages?: number | undefined;
  /** Long-poll up to this many seconds when empty (0–20). */
  readonly waitSeconds?: number | undefined;
  /** Seconds the received messages stay hidden; the queue's default when absent. */
  readonly visibilitySeconds?: number | undefined;
  /** Stops a long poll early (shutdown). */
  readonly signal?: AbortSignal | undefined;
}

export interface MessageQueue<T> {
  send(body: T, options?: SendOptions): Promise<void>;
  receive(options?: ReceiveOptions): Promise<Delivery<T>[]>;
  /** Heartbeat: keep a delivery hidden for another `seconds` from now. */
  extend(receipt: string, seconds: number): Promise<void>;
  /** Make a delivery visible again at once (a draining worker hands work back). */
  release(receipt: string): Promise<void>;
  /** Done with it; a stale receipt (the message was redelivered) is not an error. */
  delete(receipt: string): Promise<void>;
  /** Messages waiting (approximate on SQS); for backpressure and queue positions. */
  depth(): Promise<number>;
  ping(): Promise<void>;
}
