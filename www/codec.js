"use strict";
// Part of the page's logic: see app.js for the order the scripts load in and what they share.
// ---- the codec panel: the user's own files, compressed or restored in a worker of their own ------
const mzMagic = [0x89, 0x4d, 0x5a, 0x0a];
const isMZ = (b) => b.length >= 4 && mzMagic.every((v, i) => b[i] === v);
// The panel holds a file and its result in memory: MNIST's largest file is 47 MB raw, so 256 MiB either
// way is room for any MNIST-like file and keeps a hostile one from taking the tab down.
const codecLimit = 256 << 20;
let codecBusy = false;
async function codecFile(file) {
  if (codecBusy) return;
  codecBusy = true;
  codecWorker ??= spawn("codec");
  const link = $("codecdownload");
  if (link.href) URL.revokeObjectURL(link.href);
  link.hidden = true; link.removeAttribute("href");
  $("codecverify").hidden = true; $("codecverified").textContent = "";
  $("codecstatus").className = "note";
  setBar("codecprogress", 0);
  const result = state.codecResult = { inName: file.name, inBytes: file.size };
  try {
    if (file.size > codecLimit) throw new Error(`${fmtBytes(file.size)} bytes is more than this page holds in memory (${codecLimit >> 20} MiB): use the mnistzip command`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    result.inSha256 = await sha256(bytes);
    const restore = isMZ(bytes), level = $("codeclevel").value;
    $("codecstatus").textContent = restore ? `Restoring ${file.name}…` : `Compressing ${file.name} (level ${level})…`;
    const onProgress = (p) => setBar("codecprogress", p.done / p.total);
    const t0 = performance.now();
    const res = await during("codec", restore
      ? codecWorker.call("decompress", [bytes, { whole: true, maxBytes: codecLimit }], onProgress)
      : codecWorker.call("compress", [bytes, { level }], onProgress));
    const out = restore ? res.data : res.mz;
    const ms = performance.now() - t0;
    const base = file.name.replace(/\.gz$/i, "");
    Object.assign(result, { op: restore ? "decompress" : "compress", outName: restore ? base.replace(/\.mz$/i, "") || "restored.idx" : base + ".mz",
      outBytes: out.length, outSha256: await sha256(out), ms, dims: res.dims, type: res.type, level: res.level, gzipped: res.gzipped, out });
    const shape = `${res.dims.join(" × ")} ${res.type}`;
    $("codecstatus").textContent = restore
      ? `${file.name} (${fmtBytes(bytes.length)} bytes) → ${result.outName}: ${fmtBytes(out.length)} bytes of IDX (${shape}${res.lossy ? ", lossy" : ""}) in ${(ms / 1000).toFixed(1)} s; SHA-256 ${result.outSha256.slice(0, 16)}…`
      : `${file.name} (${fmtBytes(bytes.length)} bytes${res.gzipped ? ", gzip" : ""}; ${shape}) → ${result.outName}: ${fmtBytes(out.length)} bytes, ` +
        `${(100 * out.length / res.rawBytes).toFixed(2)}% of the raw ${fmtBytes(res.rawBytes)} (${(8 * out.length / res.rawBytes).toFixed(3)} bits per byte) in ${(ms / 1000).toFixed(1)} s, level ${res.level}.`;
    link.href = URL.createObjectURL(new Blob([out]));
    link.download = result.outName;
    link.textContent = `Download ${result.outName} (${fmtBytes(out.length)} bytes)`;
    link.hidden = false;
    $("codecverify").hidden = restore;
    setBar("codecprogress", 1);
  } catch (e) {
    result.error = e.message;
    $("codecstatus").textContent = `${file.name}: ${e.message}`;
    $("codecstatus").className = "error";
  } finally {
    result.done = true;
    codecBusy = false;
  }
}
// Restores the .mz just made and compares it with the input, byte for byte (by SHA-256; a .gz input
// is compared after gunzip, which is what the .mz restores).
$("codecverify").onclick = async () => {
  const r = state.codecResult;
  if (!r?.out) return;
  try {
    const res = await codecWorker.call("decompress", [r.out, { whole: true }]);
    let want = r.inSha256;
    if (r.gzipped) {
      const raw = new Uint8Array(await new Response(new Blob([await fileBytes()]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
      want = await sha256(raw);
    }
    const got = await sha256(res.data);
    r.roundTrip = { sha256: got, want, equal: got === want };
    $("codecverified").textContent = got === want ? `Restored byte for byte (SHA-256 ${got.slice(0, 16)}…).` : `Restored file differs: SHA-256 ${got.slice(0, 16)}… ≠ ${want.slice(0, 16)}…`;
  } catch (e) {
    $("codecverified").textContent = "Restoring failed: " + e.message;
  }
};
let lastFile = null;
const fileBytes = async () => new Uint8Array(await lastFile.arrayBuffer());
$("codecfile").onchange = () => { const f = $("codecfile").files[0]; if (f) { lastFile = f; codecFile(f); } };
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer.files[0];
  if (f) { lastFile = f; codecFile(f); }
});

