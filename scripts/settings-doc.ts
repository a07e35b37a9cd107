/** Writes docs/settings.md from the settings table (core/settings.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsMarkdown } from '../bin/cli/settings-help.ts';

writeFileSync(join(import.meta.dirname, '..', 'docs', 'settings.md'), settingsMarkdown());
console.log('docs/settings.md written');
