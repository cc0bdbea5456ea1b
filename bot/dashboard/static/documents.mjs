// PDFs drawn in the page with pdf.js (vendored in ./pdfjs, Apache-2.0): Telegram's web views
// on Android show no PDF in a frame, and a file opened outside the Mini App would have no
// session. The file comes from the authorised document route, as bytes; pdf.js runs in one
// worker of our own origin, decodes scanned images (CCITT, JBIG2, JPEG 2000) with its
// JavaScript decoders (no WebAssembly: the CSP allows none), and a document is drawn only
// when it scrolls into view, at most MAX_PAGES pages, then let go: a phone's memory is small.
import * as pdfjs from "./pdfjs/pdf.min.mjs";

const MAX_PAGES = 30; // a cv or a diploma; past this, a note says so and "open" has them all
const MAX_RATIO = 2; // sharper than this costs memory and shows nothing more on a phone
pdfjs.GlobalWorkerOptions.workerSrc = new URL("./pdfjs/pdf.worker.min.mjs", import.meta.url).href;
const wasmUrl = new URL("./pdfjs/wasm/", import.meta.url).href;
let worker = null;

async function draw(holder) {
  const answer = await fetch(holder.dataset.src, { credentials: "same-origin" });
  if (!answer.ok) { throw new Error("document " + answer.status); }
  const data = new Uint8Array(await answer.arrayBuffer());
  worker = worker || new pdfjs.PDFWorker();
  const task = pdfjs.getDocument({ data, worker, wasmUrl, useWasm: false, enableXfa: false });
  const pdf = await task.promise;
  try {
    const width = holder.clientWidth || 600;
    const ratio = Math.min(window.devicePixelRatio || 1, MAX_RATIO);
    const pages = Math.min(pdf.numPages, MAX_PAGES);
    for (let n = 1; n <= pages; n += 1) {
      const page = await pdf.getPage(n);
      const plain = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: (width / plain.width) * ratio });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "pdf-page";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", holder.dataset.label + " " + n + "/" + pdf.numPages);
      holder.appendChild(canvas);
      await page.render({ canvas, viewport }).promise;
      page.cleanup();
    }
    holder.dataset.pages = String(pdf.numPages);
    if (pdf.numPages > MAX_PAGES) { holder.querySelector(".pdf-more").hidden = false; }
  } finally {
    await task.destroy();
  }
  holder.querySelector(".pdf-loading").remove();
  holder.classList.add("drawn");
}

function start(holder) {
  draw(holder).catch(() => {
    holder.classList.add("failed");
    holder.querySelector(".pdf-loading").hidden = true;
    holder.querySelector(".pdf-failed").hidden = false;
  });
}

const holders = document.querySelectorAll(".pdf[data-src]");
if ("IntersectionObserver" in window) {
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) { seen.unobserve(entry.target); start(entry.target); }
    }
  }, { rootMargin: "400px 0px" });
  holders.forEach((holder) => seen.observe(holder));
} else {
  holders.forEach(start);
}
