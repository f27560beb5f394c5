/**
 * native_addon.ts in a browser page (web/e2e/webgpu.mjs aliases it to this file): a page
 * cannot load a Node addon, so the conformance suite's native target is skipped there, saying so.
 */
import type { AddonLoad } from '../../src/backend/native/native_addon.js';

/** No addon, and why (as native_addon.ts says where it cannot load one). */
export function loadNativeAddon(): AddonLoad {
  return { addon: null, reason: 'a browser page cannot load a Node addon' };
}
