import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, read } from '../../../core/config.ts';
import { SETTINGS } from '../../../core/settings.ts';
import { healthAddress, startHealthServer } from '../../../gpu-worker/src/worker/health.ts';
import { healthCheckCommand } from '../../../infra/constructs/gpu-worker.ts';

describe('the worker’s health server is not on every interface (issue 18)', () => {
  it('listens on loopback by default', async () => {
    const health = await startHealthServer(
      0,
      () => 'ready',
      healthAddress(read({}, SETTINGS.healthHost)),
    );
    try {
      expect((health.server.address() as AddressInfo).address).toBe('127.0.0.1');
      expect(health.addresses).toEqual(['127.0.0.1']);
      expect((await fetch(`http://127.0.0.1:${health.port}/healthz`)).status).toBe(200);
    } finally {
      health.close();
    }
  });

  it('on the task’s own address it answers there and on loopback, which the container check calls', async () => {
    // The container's check command, as the stack writes it, targets loopback.
    expect(healthCheckCommand(8081).join(' ')).toContain('http://127.0.0.1:8081/healthz');
    const own = healthAddress('task', {
      lo: [
        {
          address: '127.0.0.1',
          netmask: '255.0.0.0',
          family: 'IPv4',
          mac: '',
          internal: true,
          cidr: null,
        },
      ],
      eth0: [
        {
          address: '127.0.0.2',
          netmask: '255.0.0.0',
          family: 'IPv4',
          mac: '',
          internal: false,
          cidr: null,
        },
      ],
    });
    expect(own).toBe('127.0.0.2');
    const health = await startHealthServer(0, () => 'busy', own);
    try {
      expect(health.addresses).toEqual(['127.0.0.2', '127.0.0.1']);
      for (const address of health.addresses) {
        expect((await fetch(`http://${address}:${health.port}/healthz`)).status).toBe(200);
      }
    } finally {
      health.close();
    }
  });

  it('refuses a setting that is neither an address nor `task`', () => {
    expect(() => healthAddress('0.0.0.0.0')).toThrow(ConfigError);
    expect(() => healthAddress('task', {})).toThrow(ConfigError);
  });
});
