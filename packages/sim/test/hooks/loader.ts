/**
 * A Node module-load hook for the planted-bug tests: functions that other modules import as ESM
 * bindings (which cannot be monkeypatched) get a pass-through wrapper that a test can redirect
 * through `globalThis.__folioSimPlant`. When no plant is set the wrappers call the original.
 *
 * * @folio/pagecache truncate.js: `truncateInodePages` (planted bug (d), an off-by-one);
 * * @folio/fs-log log.js: the wait for the usage-table writes before the checkpoint block is
 *   written (planted bug (e), a checkpoint written before its segment).
 */
interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (url.endsWith("/pagecache/dist/src/truncate.js")) {
    let src = text(result.source);
    src = src.replace("export function truncateInodePages(", "function truncateInodePages$original(");
    src +=
      "\nexport function truncateInodePages(...args) {\n" +
      "  const plant = globalThis.__folioSimPlant?.truncateInodePages;\n" +
      "  return plant ? plant(truncateInodePages$original, ...args) : truncateInodePages$original(...args);\n}\n";
    return { ...result, source: src };
  }
  if (url.endsWith("/fs-log/dist/src/log.js")) {
    const src = text(result.source);
    const re = /writer\.drain\(\);(\s*)if \(writer\.failed\)/;
    if (!re.test(src)) throw new Error("planted-bug hook: the checkpoint's drain was not found in fs-log's log.js");
    return { ...result, source: src.replace(re, "if (!globalThis.__folioSimPlant?.checkpointFirst) writer.drain();$1if (writer.failed)") };
  }
  return result;
}

function text(source: LoadResult["source"]): string {
  if (typeof source === "string") return source;
  return new TextDecoder().decode(source as Uint8Array);
}
