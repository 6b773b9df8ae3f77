/**
 * The names of the compat presets (`--compat`). They sit this low because configuration validates
 * the flag before any algorithm is loaded; what each preset switches on is spri/compat.ts.
 */
export const COMPAT_PRESETS = ["default", "reference"] as const;

export type CompatPreset = (typeof COMPAT_PRESETS)[number];

export function isCompatPreset(value: string): value is CompatPreset {
  return (COMPAT_PRESETS as readonly string[]).includes(value);
}
