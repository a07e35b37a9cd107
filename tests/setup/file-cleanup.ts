import { afterAll } from 'vitest';
import { runFileCleanups } from '../helpers/file-cleanup.ts';

// A setup file's hooks belong to each test file's root suite: this runs once per file, at its end.
afterAll(runFileCleanups);
