import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsMarkdown } from '../../bin/cli/settings-help.ts';
import { SERVE_HELP } from '../../bin/cli/serve-command.ts';
import { ConfigError, read, UsageError } from '../../core/config.ts';
import { SETTINGS, type Setting } from '../../core/settings.ts';
import { ditserve } from '../helpers/cli.ts';
import { buildStack, resourcesOf } from '../infra/helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const byEnv = new Map(Object.values(SETTINGS).map((s: Setting) => [s.env, s]));

describe('one settings table', () => {
  it('docs/settings.md is the table (npm run docs:settings writes it)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8')).toBe(settingsMarkdown());
  });

  it('`ditserve serve --help` shows each of its settings with the table’s default', () => {
    for (const s of Object.values(SETTINGS) as Setting[]) {
      if (!s.readBy.includes('serve')) continue;
      expect(SERVE_HELP, s.env).toContain(s.env);
      if (s.default !== undefined)
        expect(SERVE_HELP, s.env).toContain(`default ${String(s.default)} (`);
    }
  });

  it('the CDK stack sets only variables of the table, at the table’s defaults unless it must differ', () => {
    const { template } = buildStack();
    const envs: Record<string, string>[] = [];
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const vars = (
        fn.Properties?.Environment as { Variables?: Record<string, string> } | undefined
      )?.Variables;
      if (vars) envs.push(vars);
    }
    for (const [, task] of resourcesOf(template, 'AWS::ECS::TaskDefinition')) {
      for (const c of task.Properties?.ContainerDefinitions as {
        Environment?: { Name: string; Value: string }[];
      }[]) {
        envs.push(Object.fromEntries((c.Environment ?? []).map((e) => [e.Name, e.Value])));
      }
    }
    expect(envs.length).toBeGreaterThanOrEqual(4);
    // The deployment's own choices: CUDA, the model's path in the image, resource names.
    const deploymentSpecific = new Set([
      'DITSERVE_DEVICE',
      'DITSERVE_MODEL_DIRS',
      'DITSERVE_BACKEND',
      'DITSERVE_BUCKET',
      'DITSERVE_JOBS_QUEUE_URL',
      'DITSERVE_WEBHOOK_QUEUE_URL',
      'DITSERVE_REQUIRE_KEYS',
      'DITSERVE_PUBLIC_URL',
    ]);
    for (const vars of envs) {
      for (const [name, value] of Object.entries(vars)) {
        if (!name.startsWith('DITSERVE_')) continue;
        const setting = byEnv.get(name);
        expect(setting, `${name} is not in core/settings.ts`).toBeDefined();
        if (setting?.default !== undefined && !deploymentSpecific.has(name)) {
          expect(value, name).toBe(String(setting.default));
        }
      }
    }
  });
});

describe('settings errors name what the user set', () => {
  it('a bad flag is a usage error naming the flag; a bad variable a config error naming it', () => {
    expect(() => read({}, SETTINGS.port, 'abc')).toThrow(UsageError);
    expect(() => read({}, SETTINGS.port, 'abc')).toThrow(/--port must be an integer/);
    expect(() => read({ DITSERVE_PORT: 'abc' }, SETTINGS.port)).toThrow(ConfigError);
    expect(() => read({ PORT: 'abc' }, SETTINGS.port)).toThrow(/^PORT must be/);
    expect(new UsageError('x').code).not.toBe(new ConfigError('x').code);
  });

  it('`ditserve serve --port abc` exits 2 and names --port', async () => {
    const run = await ditserve('serve', '--port', 'abc');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be an integer');
    expect(run.stderr).not.toContain('DITSERVE_PORT');
  });

  it('DITSERVE_POLL_SECONDS=0 (an idle worker spinning on an empty queue) is refused at start', async () => {
    expect(() => read({ DITSERVE_POLL_SECONDS: '0' }, SETTINGS.pollSeconds)).toThrow(ConfigError);
    const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, DITSERVE_POLL_SECONDS: '0', DITSERVE_HEALTH_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(stderr).toContain('DITSERVE_POLL_SECONDS must be an integer in [1, 20]');
  });
});
