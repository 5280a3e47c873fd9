import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's Chromium (CHROMIUM_PATH, else /usr/bin/chromium), headless, fresh profile, autoplay
 * allowed: the same launch as test/support/chromium.ts, which bench/ cannot import (its tsconfig's
 * rootDir is bench/, and the tests' support files are not a library).
 */
export async function launchChromium(executablePath: string): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'tributary-bench-chromium-'));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      // prettier-ignore
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
      ],
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}
