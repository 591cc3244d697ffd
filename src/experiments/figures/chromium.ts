/**
 * Headless Chromium: where it is ({@link findChromium}), whether static images can be rendered
 * here ({@link imagesUnavailable}), and the flags of a run that talks to nothing but the files
 * it is given ({@link chromiumArgs}).
 *
 * @module
 */
import { join } from "node:path";
import { existsSync, plotlyJsPath } from "./plotly.ts";

/** A Chromium binary: env `HASH_CHROMIUM` when set, else the first of chromium, chromium-browser, google-chrome on PATH; or null. */
export function findChromium(): string | null {
  let path = "";
  try {
    const explicit = Deno.env.get("HASH_CHROMIUM");
    if (explicit) return explicit === "off" ? null : explicit;
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return null;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    for (const dir of path.split(":").filter(Boolean)) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Why static images cannot be rendered here, or null when Chromium and plotly.js are present. */
export function imagesUnavailable(chromium: string | null = findChromium()): string | null {
  if (!chromium) {
    return "no Chromium on PATH (Debian: apt-get install chromium fonts-liberation; or set " +
      "HASH_CHROMIUM)";
  }
  try {
    plotlyJsPath("full");
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** Flags of a headless Chromium run that talks to nothing but the files it is given. */
export function chromiumArgs(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    `--user-data-dir=${profile}`,
  ];
}
