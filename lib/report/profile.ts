/**
 * Run profiles: how big a notebook run is. The runner sets `OOD_PROFILE`; a notebook's config cell reads it
 * once and picks its sizes with {@link byProfile}, so every code path runs at every profile (conventions C7, C9).
 *
 * | profile | meant for |
 * |---|---|
 * | `smoke` | `deno test` and CI: seconds, tiny data, every cell still runs |
 * | `default` | `deno task reproduce`: minutes on 2 cores, the embedded data |
 * | `paper` | the papers' settings (hours; full datasets, all seeds) |
 * @module
 */
// Every notebook imports this module in its first cell: this installs the kernel fix of `installResultOrderFix`.
import "./jupyter.ts";
import { UserError } from "../user_error.ts";

/** The profile names, smallest first. */
export const PROFILES = ["smoke", "default", "paper"] as const;

/** A run profile. */
export type Profile = typeof PROFILES[number];

/**
 * Parses a profile name (case and surrounding spaces ignored).
 *
 * @param value The name, e.g. from `OOD_PROFILE` or `--profile`.
 * @param source What the value came from, for the error message.
 * @throws Error listing the valid names when `value` is not one.
 */
export function parseProfile(value: string, source = "profile"): Profile {
  const v = value.trim().toLowerCase();
  if ((PROFILES as readonly string[]).includes(v)) return v as Profile;
  throw new UserError(`Unknown ${source} "${value}". Valid profiles: ${PROFILES.join(", ")}.`);
}

/**
 * The profile of this run: `OOD_PROFILE`, else `"default"`. Without `--allow-env` it is `"default"`.
 *
 * @throws Error when `OOD_PROFILE` is set to an unknown name.
 */
export function currentProfile(): Profile {
  let v: string | undefined;
  try {
    v = Deno.env.get("OOD_PROFILE") || undefined;
  } catch {
    v = undefined;
  }
  return v === undefined ? "default" : parseProfile(v, "OOD_PROFILE");
}

/** Where a notebook's network weights come from: trained in the run, or the authors' released files. */
export const WEIGHTS_SOURCES = ["train", "released"] as const;

/** A weights source (`OOD_WEIGHTS`). */
export type WeightsSource = typeof WEIGHTS_SOURCES[number];

/**
 * The weights source of this run: `OOD_WEIGHTS`, else `"train"`. `released` skips training and evaluates the
 * authors' published weights on the paper's data (CIDER, ELOC, VMDLS, Unleashing Mask).
 *
 * @throws Error listing the valid names when `OOD_WEIGHTS` is set to an unknown one.
 */
export function currentWeights(): WeightsSource {
  let v: string | undefined;
  try {
    v = Deno.env.get("OOD_WEIGHTS") || undefined;
  } catch {
    v = undefined;
  }
  if (v === undefined) return "train";
  const w = v.trim().toLowerCase();
  if ((WEIGHTS_SOURCES as readonly string[]).includes(w)) return w as WeightsSource;
  throw new UserError(`Unknown OOD_WEIGHTS "${v}". Valid values: ${WEIGHTS_SOURCES.join(", ")}.`);
}

/**
 * Picks the value for a profile: the one place a notebook's sizes depend on the profile.
 *
 * @param values One value per profile.
 * @param profile Default {@link currentProfile}().
 * @example Usage
 * ```ts
 * const epochs = byProfile({ smoke: 1, default: 5, paper: 100 });
 * ```
 */
export function byProfile<T>(values: Readonly<Record<Profile, T>>, profile: Profile = currentProfile()): T {
  return values[profile];
}
