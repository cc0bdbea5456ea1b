// PDFs drawn in the page with pdf.js (vendored in ./pdfjs, Apache-2.0): Telegram's web views
// on Android show no PDF in a frame, and a file opened outside the Mini App would have no
// session. The file comes from the authorised document route, as bytes; pdf.js runs without
// eval, in a worker of our own origin.
import * as pdfjs from "./pdfjs/pdf.min.mjs";

const MAX_PAGES = 30; // a cv or a diploma; past this, "open" gives the whole file
pdfjs.GlobalWorkerOptions.workerSrc = new URL("./pdfjs/pdf.worker.min.mjs", import.meta.url).href;

async function draw(holder) {
  const answer = await fetch(holder.dataset.src, { credentials: "same-origin" });
  if (!answer.ok) { throw new Error("document " + answer.status); }
  const data = new Uint8Array(await answer.arrayBuffer());
  const pdf = await pdfjs.getDocument({ data, isEvalSupported: false, enableXfa: false }).promise;
  const width = holder.clientWidth || 600;
  const pages = Math.min(pdf.numPages, MAX_PAGES);
  for (let n = 1; n <= pages; n += 1) {
    const page = await pdf.getPage(n);
    const plain = page.getViewport({ scale: 1 });
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: (width / plain.width) * ratio });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.className = "pdf-page";
    canvas.setAttribute("aria-label", holder.dataset.label + " " + n + "/" + pdf.numPages);
    holder.appendChild(canvas);
    await page.render({ canvas, viewport }).promise;
  }
  holder.dataset.pages = String(pdf.numPages);
  holder.classList.add("drawn");
}

for (const holder of document.querySelectorAll(".pdf[data-src]")) {
  draw(holder).catch(() => {
    holder.classList.add("failed");
    const note = holder.querySelector(".pdf-failed");
    if (note) { note.hidden = false; }
  });
}
