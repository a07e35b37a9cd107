import { FlowMatchEulerDiscreteScheduler } from './euler.ts';
import { FlowMatchHeunDiscreteScheduler } from './heun.ts';
import type { FlowMatchScheduler, SchedulerConfig } from './types.ts';

/**
 * Sampler names that requests use, mapped to solver classes. All of them read the same
 * scheduler_config.json keys, so any sampler runs with any model's scheduler config.
 */
const SAMPLERS = {
  euler: FlowMatchEulerDiscreteScheduler,
  heun: FlowMatchHeunDiscreteScheduler,
} as const;

export type SamplerName = keyof typeof SAMPLERS;
export const SAMPLER_NAMES = Object.keys(SAMPLERS) as readonly SamplerName[];

export function isSamplerName(name: string): name is SamplerName {
  return Object.hasOwn(SAMPLERS, name);
}

/** The sampler name whose class is `className` (scheduler_config.json's `_class_name`). */
export function samplerForClassName(className: string): SamplerName | undefined {
  return SAMPLER_NAMES.find((name) => SAMPLERS[name].className === className);
}

export function createScheduler(
  name: SamplerName,
  config: SchedulerConfig,
  steps: number,
): FlowMatchScheduler {
  const scheduler = new SAMPLERS[name](config);
  scheduler.setTimesteps(steps);
  return scheduler;
}
