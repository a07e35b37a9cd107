import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

describe('the repository stands alone', () => {
  it('no code or page points at a file outside it', () => {
    const offenders = tracked
      .filter((f) => /\.(ts|md|sh|json|py|toml)$/.test(f) && !f.startsWith('models/'))
      .filter((f) => {
        const text = readFileSync(join(ROOT, f), 'utf8');
        return /\.\.\/shared\/|\bshared\/gpu-kit|design\.md|\/work\/\.library/.test(text);
      });
    expect(offenders).toEqual([]);
  });

  it('docs/architecture.md names every top-level folder', () => {
    const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const folders = new Set(tracked.filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
    for (const folder of folders) expect(page, folder).toContain(`\`${folder ?? ''}/`);
  });
});
