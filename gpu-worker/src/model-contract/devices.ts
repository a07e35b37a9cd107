/** Where a model can run: `auto` is CUDA when it works, else the CPU. */
export type DeviceOption = 'cpu' | 'cuda' | 'auto';
export type Device = 'cpu' | 'cuda';
export const DEVICE_OPTIONS: readonly DeviceOption[] = ['cpu', 'cuda', 'auto'];
