import type { GenerationParams } from '../../../core/generation.ts';
import { samplerFrames } from './video-inputs.ts';

/**
 * Jobs can share one sampler batch when the model, size, steps and sampler agree, and for clips
 * the frames the sampler makes (an extension's context counted: samplerFrames).
 */
export function batchKey(p: GenerationParams): string {
  const frames = p.modality === 'video' ? samplerFrames(p) : 'image';
  return [p.model, p.width, p.height, p.steps, p.sampler, frames].join('|');
}

/**
 * Splits claimed jobs into compatible groups, each holding at most `maxImages` images (a job's
 * images are never split across groups). Order within a group follows arrival.
 */
export function batchesOf<T extends { readonly params: GenerationParams }>(
  items: readonly T[],
  maxImages: number,
): T[][] {
  const open = new Map<string, { items: T[]; images: number }>();
  const groups: T[][] = [];
  for (const item of items) {
    const key = batchKey(item.params);
    let group = open.get(key);
    if (!group || group.images + item.params.numImages > maxImages) {
      group = { items: [], images: 0 };
      open.set(key, group);
      groups.push(group.items);
    }
    group.items.push(item);
    group.images += item.params.numImages;
  }
  return groups;
}
